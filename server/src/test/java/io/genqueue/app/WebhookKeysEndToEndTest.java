package io.genqueue.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.provider.preview.PreviewProvider;
import io.genqueue.testing.SettableClock;
import io.genqueue.webhook.FalReceiver;
import io.genqueue.webhook.SigningKey;
import io.genqueue.webhook.WebhookSigner;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The webhook signing keys as a receiver sees them: the JWKS fetched over HTTP without a key, a
 * signature the server's key made verified by a receiver that knows nothing but that JWKS (the
 * public key rebuilt from {@code x} alone, as fal's receivers do), rotation from the command line,
 * and one key for a whole PostgreSQL deployment.
 */
class WebhookKeysEndToEndTest {

    private static final String JWKS = "/.well-known/jwks.json";
    private static final byte[] BODY = ("{\"request_id\":\"req_01abc\",\"gateway_request_id\":\"req_01abc\",\"status\":\"OK\","
            + "\"payload\":{\"images\":[]}}").getBytes(StandardCharsets.UTF_8);

    /** The JWKS as anyone may fetch it: no Authorization header. */
    private static TestServer.Response jwks(TestServer server, String base) {
        return server.send(HttpRequest.newBuilder(URI.create(base + JWKS)).timeout(Duration.ofSeconds(30)).GET().build());
    }

    private static List<String> kids(TestServer.Response jwks) {
        List<String> kids = new ArrayList<>();
        jwks.json().get("keys").forEach(k -> kids.add(k.get("kid").asText()));
        return kids;
    }

    private static Map<String, String> with(Map<String, String> headers, String name, String value) {
        Map<String, String> changed = new HashMap<>(headers);
        changed.put(name, value);
        return changed;
    }

    @Test
    void the_jwks_needs_no_key_and_verifies_what_the_servers_key_signs() {
        SettableClock clock = new SettableClock(Instant.now());
        try (TestServer server = TestServer.start(Map.of(), clock, null)) {
            TestServer.Response r = jwks(server, server.base);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("Content-Type")).startsWith("application/json");
            assertThat(r.header("Cache-Control")).contains("max-age=300");
            JsonNode keys = r.json().get("keys");
            assertThat(keys).hasSize(1);
            JsonNode jwk = keys.get(0);
            assertThat(jwk.fieldNames()).toIterable().containsExactlyInAnyOrder("kty", "crv", "x", "kid");
            assertThat(jwk.get("kty").asText()).isEqualTo("OKP");
            assertThat(jwk.get("crv").asText()).isEqualTo("Ed25519");
            assertThat(jwk.get("x").asText()).as("base64url of 32 bytes, no padding").matches("[A-Za-z0-9_-]{43}");

            SigningKey key = server.app.signingKeys().active();
            assertThat(jwk.get("kid").asText()).isEqualTo(key.kid());
            byte[] pkcs8 = key.privateKey();
            byte[] seed = Arrays.copyOfRange(pkcs8, pkcs8.length - 32, pkcs8.length);
            for (String form : List.of(Base64.getUrlEncoder().withoutPadding().encodeToString(seed), Base64.getEncoder().encodeToString(seed),
                    HexFormat.of().formatHex(seed), Base64.getEncoder().encodeToString(pkcs8))) {
                assertThat(r.body()).as("no private key in the JWKS").doesNotContain(form);
            }

            long now = clock.instant().getEpochSecond();
            Map<String, String> signed = new WebhookSigner(key).headers("req_01abc", "default", now, BODY);
            FalReceiver receiver = FalReceiver.trusting(r.body());
            assertThat(receiver.accepts(signed, BODY, now)).isTrue();
            byte[] changed = BODY.clone();
            changed[10] ^= 1;
            assertThat(receiver.accepts(signed, changed, now)).as("a changed body").isFalse();
            assertThat(receiver.accepts(with(signed, WebhookSigner.TIMESTAMP, Long.toString(now - 1)), BODY, now)).as("a changed timestamp")
                    .isFalse();
            assertThat(receiver.accepts(with(signed, WebhookSigner.REQUEST_ID, "req_01abd"), BODY, now)).as("a changed request id")
                    .isFalse();
            assertThat(receiver.accepts(with(signed, WebhookSigner.USER_ID, "other"), BODY, now)).as("a changed user id").isFalse();

            TestServer.Response post = server.send(HttpRequest.newBuilder(URI.create(server.base + JWKS))
                    .POST(HttpRequest.BodyPublishers.noBody()).build());
            assertThat(post.status()).isEqualTo(405);
            assertThat(post.header("Allow")).isEqualTo("GET");
        }
    }

    @Test
    void the_key_made_at_the_first_start_is_the_key_after_a_restart() {
        SettableClock clock = new SettableClock(Instant.now());
        String kid;
        Path dir;
        try (TestServer server = TestServer.start(Map.of(), clock, null)) {
            kid = kids(jwks(server, server.base)).get(0);
            dir = server.dataDir;
        }
        try (TestServer again = TestServer.start(Map.of("GENQUEUE_DATA_DIR", dir.toString()), clock, null, false)) {
            assertThat(kids(jwks(again, again.base))).containsExactly(kid);
        }
    }

    @Test
    void a_rotation_from_the_command_line_publishes_the_next_key_a_lead_ahead_and_the_old_key_leaves_after_the_grace() {
        SettableClock clock = new SettableClock(Instant.now()); // the command line rotates at real time
        try (TestServer server = TestServer.start(Map.of(), clock, null)) {
            SigningKey old = server.app.signingKeys().active();
            long signedAt = clock.instant().getEpochSecond();
            Map<String, String> signedByOld = new WebhookSigner(old).headers("req_01abc", "default", signedAt, BODY);

            Cli.Result rotated = Cli.run("webhook-keys", "rotate", "--grace", "1h", "--data-dir", server.dataDir.toString());
            assertThat(rotated.code()).as(rotated.toString()).isZero();
            assertThat(rotated.out()).contains("in /.well-known/jwks.json now and signs from");
            String newKid = rotated.lastLine();
            assertThat(newKid).isNotEqualTo(old.kid()).matches("[A-Za-z0-9_-]{43}");

            TestServer.Response cachedAtRotation = jwks(server, server.base);
            assertThat(kids(cachedAtRotation)).containsExactly(newKid, old.kid());
            assertThat(server.app.signingKeys().active().kid()).as("the current key signs through the lead (GENQUEUE_WEBHOOK_KEY_LEAD, 24h)")
                    .isEqualTo(old.kid());
            Cli.Result listed = Cli.run("webhook-keys", "list", "--data-dir", server.dataDir.toString());
            assertThat(listed.code()).isZero();
            assertThat(listed.out()).contains(newKid + " ").contains("next: published, signs from").contains("active (signs) until");

            clock.advance(Duration.ofHours(24).plusMinutes(1));
            SigningKey active = server.app.signingKeys().active();
            assertThat(active.kid()).isEqualTo(newKid);
            long now = clock.instant().getEpochSecond();
            Map<String, String> signedByNew = new WebhookSigner(active).headers("req_01abc", "default", now, BODY);
            assertThat(FalReceiver.trusting(cachedAtRotation.body()).accepts(signedByNew, BODY, now))
                    .as("a receiver that cached the JWKS at the rotation verifies the new key's signatures").isTrue();
            assertThat(kids(jwks(server, server.base))).as("the old key, in its grace after its last signature").containsExactly(newKid, old.kid());

            clock.advance(Duration.ofHours(1));
            TestServer.Response after = jwks(server, server.base);
            assertThat(kids(after)).containsExactly(newKid);
            assertThat(FalReceiver.trusting(after.body()).accepts(signedByOld, BODY, signedAt)).as("the old key, after its grace").isFalse();
        }
    }

    @Test
    void a_rotation_during_a_lead_is_refused_and_one_after_a_leak_replaces_and_withdraws_every_key_at_once() {
        try (TestServer server = TestServer.start()) {
            String old = kids(jwks(server, server.base)).get(0);
            Cli.Result ahead = Cli.run("webhook-keys", "rotate", "--data-dir", server.dataDir.toString());
            assertThat(ahead.code()).as(ahead.toString()).isZero();
            Cli.Result again = Cli.run("webhook-keys", "rotate", "--data-dir", server.dataDir.toString());
            assertThat(again.code()).isEqualTo(2);
            assertThat(again.err()).contains("a rotation is under way").contains(ahead.lastLine()).contains("0s");

            Cli.Result rotated = Cli.run("webhook-keys", "rotate", "--lead", "0s", "--grace", "0s", "--data-dir", server.dataDir.toString());
            assertThat(rotated.code()).as(rotated.toString()).isZero();
            assertThat(rotated.out()).contains("from now on").contains("leaves /.well-known/jwks.json now");
            assertThat(kids(jwks(server, server.base))).containsExactly(rotated.lastLine()).doesNotContain(old, ahead.lastLine());
            assertThat(server.app.signingKeys().active().kid()).isEqualTo(rotated.lastLine());

            Cli.Result bad = Cli.run("webhook-keys", "rotate", "--lead", "soon", "--data-dir", server.dataDir.toString());
            assertThat(bad.code()).isEqualTo(2);
            assertThat(bad.err()).contains("--lead").contains("not a duration");
            assertThat(kids(jwks(server, server.base))).as("nothing rotated").containsExactly(rotated.lastLine());
        }
    }

    @Test
    void every_node_of_a_postgresql_deployment_publishes_the_same_key_and_sees_a_rotation_at_once() {
        try (TestServer cluster = TestServer.startCluster(Map.of("GENQUEUE_WORKERS", "0"), new PreviewProvider(Duration.ZERO), 2)) {
            List<String> bases = cluster.nodes().stream().map(n -> "http://127.0.0.1:" + n.port()).toList();
            String first = jwks(cluster, bases.get(0)).body();
            assertThat(kids(jwks(cluster, bases.get(0)))).hasSize(1);
            assertThat(jwks(cluster, bases.get(1)).body()).isEqualTo(first);
            assertThat(cluster.nodes().get(1).signingKeys().active()).isEqualTo(cluster.nodes().get(0).signingKeys().active());

            SigningKey next = cluster.nodes().get(0).signingKeys().rotate(Duration.ZERO, Duration.ofHours(24));
            assertThat(kids(jwks(cluster, bases.get(1))).get(0)).isEqualTo(next.kid());
            assertThat(cluster.nodes().get(1).signingKeys().active()).isEqualTo(next);
        }
    }
}
