package io.genqueue.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genqueue.json.Json;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.EdECPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Signatures in fal's form, and public keys as RFC 8037 JWKs, checked against the RFCs' own examples. */
class WebhookSignerTest {

    // RFC 8032 section 7.1, TEST 1, which RFC 8037 appendix A uses as its example JWK.
    private static final byte[] RFC_SEED = HexFormat.of().parseHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    private static final byte[] RFC_PUBLIC = HexFormat.of().parseHex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    private static final String RFC_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";      // RFC 8037 A.2
    private static final String RFC_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"; // RFC 8037 A.3
    // DER prefixes of an Ed25519 PKCS#8 private key (RFC 8410 section 7) and X.509 public key
    private static final byte[] PKCS8_PREFIX = HexFormat.of().parseHex("302e020100300506032b657004220420");
    private static final byte[] X509_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");

    private static final long NOW = 1_800_000_000L;
    private static final byte[] BODY = "{\"request_id\":\"req_1\",\"status\":\"OK\",\"payload\":{\"images\":[]}}".getBytes(StandardCharsets.UTF_8);

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static SigningKey rfcKey() {
        return new SigningKey(Jwks.thumbprint(RFC_PUBLIC), concat(PKCS8_PREFIX, RFC_SEED), RFC_PUBLIC, Instant.EPOCH, Instant.EPOCH, null, null);
    }

    private static String jwks(SigningKey... keys) {
        return Json.writeString(Jwks.document(List.of(keys)));
    }

    private static Map<String, String> with(Map<String, String> headers, String name, String value) {
        Map<String, String> changed = new HashMap<>(headers);
        changed.put(name, value);
        return changed;
    }

    @Test
    void the_rfc_8037_example_key_gets_its_x_and_its_thumbprint_as_kid() throws Exception {
        EdECPublicKey key = (EdECPublicKey) KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(concat(X509_PREFIX, RFC_PUBLIC)));
        assertThat(Jwks.encode(key)).isEqualTo(RFC_PUBLIC);
        assertThat(Jwks.jwk(rfcKey())).containsExactly(Map.entry("kty", "OKP"), Map.entry("crv", "Ed25519"), Map.entry("x", RFC_X),
                Map.entry("kid", RFC_THUMBPRINT));
    }

    @Test
    void the_encoding_of_generated_keys_matches_the_jdks_own_for_both_parities_and_small_y() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("Ed25519");
        boolean sawOdd = false;
        boolean sawEven = false;
        boolean sawShortY = false;
        for (int i = 0; i < 2000; i++) {
            KeyPair pair = generator.generateKeyPair();
            EdECPublicKey pub = (EdECPublicKey) pair.getPublic();
            byte[] der = pub.getEncoded();
            assertThat(Jwks.encode(pub)).isEqualTo(Arrays.copyOfRange(der, X509_PREFIX.length, der.length));
            sawOdd |= pub.getPoint().isXOdd();
            sawEven |= !pub.getPoint().isXOdd();
            sawShortY |= pub.getPoint().getY().bitLength() <= 248; // its top byte is zero
        }
        assertThat(sawOdd).isTrue();
        assertThat(sawEven).isTrue();
        assertThat(sawShortY).as("a key whose y has a zero top byte (about 1 in 128)").isTrue();
    }

    @Test
    void a_receiver_following_fals_steps_accepts_the_signature_with_the_key_rebuilt_from_x() {
        SigningKey key = rfcKey();
        Map<String, String> headers = new WebhookSigner(key).headers("req_01abc", "acme", NOW, BODY);
        assertThat(headers).containsOnlyKeys("X-Fal-Webhook-Request-Id", "X-Fal-Webhook-User-Id", "X-Fal-Webhook-Timestamp",
                "X-Fal-Webhook-Signature");
        assertThat(headers.get("X-Fal-Webhook-Timestamp")).isEqualTo("1800000000");
        assertThat(headers.get("X-Fal-Webhook-Signature")).matches("[0-9a-f]{128}");
        assertThat(FalReceiver.trusting(jwks(key)).accepts(headers, BODY, NOW)).isTrue();
        assertThat(FalReceiver.trusting(jwks(key)).accepts(headers, BODY, NOW + FalReceiver.TOLERANCE_SECONDS)).isTrue();
    }

    @Test
    void a_changed_body_timestamp_request_id_or_user_id_fails_verification() {
        SigningKey key = SigningKey.generate(Instant.EPOCH, Instant.EPOCH);
        FalReceiver receiver = FalReceiver.trusting(jwks(key));
        Map<String, String> signed = new WebhookSigner(key).headers("req_01abc", "acme", NOW, BODY);
        assertThat(receiver.accepts(signed, BODY, NOW)).isTrue();

        byte[] changedBody = BODY.clone();
        changedBody[changedBody.length - 2] ^= 1;
        assertThat(receiver.accepts(signed, changedBody, NOW)).as("body").isFalse();
        assertThat(receiver.accepts(with(signed, "X-Fal-Webhook-Timestamp", Long.toString(NOW + 1)), BODY, NOW)).as("timestamp").isFalse();
        assertThat(receiver.accepts(with(signed, "X-Fal-Webhook-Request-Id", "req_01abd"), BODY, NOW)).as("request id").isFalse();
        assertThat(receiver.accepts(with(signed, "X-Fal-Webhook-User-Id", "acme2"), BODY, NOW)).as("user id").isFalse();
        assertThat(FalReceiver.trusting(jwks(SigningKey.generate(Instant.EPOCH, Instant.EPOCH))).accepts(signed, BODY, NOW)).as("another key").isFalse();
        assertThat(receiver.accepts(signed, BODY, NOW + FalReceiver.TOLERANCE_SECONDS + 1)).as("too old for fal's receivers").isFalse();
    }

    @Test
    void the_signature_is_the_same_for_the_same_input_and_another_for_other_input() {
        WebhookSigner signer = new WebhookSigner(SigningKey.generate(Instant.EPOCH, Instant.EPOCH));
        String once = signer.signature("req_1", "acme", NOW, BODY);
        assertThat(signer.signature("req_1", "acme", NOW, BODY)).as("Ed25519 is deterministic").isEqualTo(once);
        // the fields are separated: moving a character from one to the next is another message
        assertThat(signer.signature("req_1a", "cme", NOW, BODY)).isNotEqualTo(once);
    }

    @Test
    void values_that_would_break_the_message_or_a_header_are_refused() {
        WebhookSigner signer = new WebhookSigner(SigningKey.generate(Instant.EPOCH, Instant.EPOCH));
        assertThatThrownBy(() -> signer.signature("req_1\nacme", "x", NOW, BODY)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("line break");
        assertThatThrownBy(() -> signer.signature("req_1", "acme\r", NOW, BODY)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> signer.signature("", "acme", NOW, BODY)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> signer.signature("req_1", "acme", -1, BODY)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void the_private_key_is_in_neither_the_jwks_nor_any_to_string() {
        SigningKey made = SigningKey.generate(Instant.EPOCH, Instant.EPOCH);
        SigningKey key = new SigningKey(made.kid(), made.privateKey(), made.x(), made.createdAt(), made.signsFrom(), Instant.EPOCH.plusSeconds(60), Instant.EPOCH.plusSeconds(120));
        SigningKey active = SigningKey.generate(Instant.EPOCH, Instant.EPOCH);
        byte[] pkcs8 = key.privateKey();
        byte[] seed = Arrays.copyOfRange(pkcs8, pkcs8.length - 32, pkcs8.length);
        List<String> forms = List.of(HexFormat.of().formatHex(seed), Base64.getEncoder().encodeToString(seed),
                Base64.getUrlEncoder().withoutPadding().encodeToString(seed), Base64.getEncoder().encodeToString(pkcs8),
                Base64.getUrlEncoder().withoutPadding().encodeToString(pkcs8), HexFormat.of().formatHex(pkcs8));
        String document = jwks(active, key);
        String text = key + " " + active + " " + List.of(key) + " " + new WebhookSigner(key);
        for (String form : forms) {
            assertThat(document).doesNotContain(form);
            assertThat(text).doesNotContain(form);
        }
        assertThat(document).doesNotContain("\"d\"");
        Map<String, Object> jwk = Jwks.jwk(key);
        assertThat(jwk).containsOnlyKeys("kty", "crv", "x", "kid");
        assertThat(key.toString()).contains(key.kid()).contains("redacted");
    }

    @Test
    void a_key_is_its_kid_and_bytes_and_holds_copies() {
        SigningKey key = SigningKey.generate(Instant.EPOCH, Instant.EPOCH);
        byte[] x = key.x();
        x[0] ^= 1;
        assertThat(key.x()).isNotEqualTo(x);
        assertThat(new SigningKey(key.kid(), key.privateKey(), key.x(), key.createdAt(), key.signsFrom(), null, null)).isEqualTo(key);
        assertThat(key.kid()).isEqualTo(Jwks.thumbprint(key.x())).hasSize(43);
        assertThatThrownBy(() -> new SigningKey("k", new byte[48], new byte[31], Instant.EPOCH, Instant.EPOCH, null, null))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new SigningKey(key.kid(), key.privateKey(), key.x(), key.createdAt(), key.signsFrom(), Instant.EPOCH, null))
                .as("retired without an end of publication").isInstanceOf(IllegalArgumentException.class);
        Map<SigningKey, String> byKey = new HashMap<>();
        byKey.put(key, "a");
        assertThat(byKey).containsKey(new SigningKey(key.kid(), key.privateKey(), key.x(), key.createdAt(), key.signsFrom(), null, null));
    }
}
