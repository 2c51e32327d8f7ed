package io.genqueue.app;

import static io.genqueue.app.TestServer.cancelPath;
import static io.genqueue.app.TestServer.responsePath;
import static io.genqueue.app.TestServer.statusPath;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Keys: missing, malformed, unknown, revoked, both schemes; tenants never see each other's requests. */
class AuthTest {

    static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(Map.of());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private TestServer.Response submitWith(String authorization) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.base + "/v1/queue/nano_banana"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"x\"}"));
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return server.send(b.build());
    }

    @Test
    void a_missing_key_is_401_with_www_authenticate() {
        TestServer.Response r = submitWith(null);
        assertThat(r.status()).isEqualTo(401);
        assertThat(r.header("WWW-Authenticate")).isEqualTo("Bearer");
        assertThat(r.json().get("detail").asText()).contains("Authorization");
    }

    @ParameterizedTest
    @ValueSource(strings = {"Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer gq_aaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
            "Bearer not-a-key", "Token abc", "gq_only"})
    void malformed_or_unknown_keys_are_401_and_never_echoed(String header) {
        TestServer.Response r = submitWith(header);
        assertThat(r.status()).isEqualTo(401);
        assertThat(r.header("WWW-Authenticate")).isEqualTo("Bearer");
        if (header.length() > 12) {
            assertThat(r.body()).doesNotContain(header.substring(header.indexOf(' ') + 1));
        }
    }

    @Test
    void both_schemes_work_and_the_scheme_is_case_insensitive() {
        assertThat(submitWith("Bearer " + server.key).status()).isEqualTo(200);
        assertThat(submitWith("Key " + server.key).status()).isEqualTo(200);
        assertThat(submitWith("bearer " + server.key).status()).isEqualTo(200);
    }

    @Test
    void a_revoked_key_stops_working_at_once() {
        String key = server.newKey("revocable");
        assertThat(submitWith("Bearer " + key).status()).isEqualTo(200);
        server.revoke(key);
        assertThat(submitWith("Bearer " + key).status()).isEqualTo(401);
    }

    @Test
    void another_tenants_request_answers_exactly_as_an_unknown_one() throws Exception {
        String other = server.newKey("other-tenant");
        String id = server.submitOk("{\"prompt\":\"mine\"}");
        server.awaitCompleted(id);
        String unknown = "req_01jdx8c2m1w4n6q8s0t2v4x6z8";
        for (String path : new String[] {statusPath(id), responsePath(id), "/v1/queue/nano_banana/requests/" + id,
                statusPath(id) + "/stream"}) {
            TestServer.Response theirs = server.send(HttpRequest.newBuilder(URI.create(server.base + path))
                    .header("Authorization", "Bearer " + other).build());
            TestServer.Response missing = server.send(HttpRequest.newBuilder(URI.create(server.base + path.replace(id, unknown)))
                    .header("Authorization", "Bearer " + other).build());
            assertThat(theirs.status()).as(path).isEqualTo(404);
            assertThat(theirs.body()).isEqualTo(missing.body());
        }
        TestServer.Response cancel = server.send(HttpRequest.newBuilder(URI.create(server.base + cancelPath(id)))
                .header("Authorization", "Bearer " + other).PUT(HttpRequest.BodyPublishers.noBody()).build());
        assertThat(cancel.status()).isEqualTo(404);
        assertThat(cancel.json().get("status").asText()).isEqualTo("NOT_FOUND");
        // the owner still sees it, unchanged
        assertThat(server.get(responsePath(id)).status()).isEqualTo(200);
    }

    @Test
    void image_links_work_only_as_signed_and_cannot_be_turned_to_another_image() throws Exception {
        String mine = server.submitOk("{\"prompt\":\"mine\"}");
        String theirs = server.submitOk("{\"prompt\":\"theirs\"}");
        server.awaitCompleted(mine);
        server.awaitCompleted(theirs);
        String url = server.get(responsePath(mine)).json().get("images").get(0).get("url").asText();
        assertThat(fetch(url)).isEqualTo(200);
        assertThat(fetch(url.replace(mine, theirs))).isEqualTo(403);
        assertThat(fetch(url.replace("sig=", "sig=x"))).isEqualTo(403);
        assertThat(fetch(url.substring(0, url.indexOf('?')))).isEqualTo(403);
        String expires = url.replaceAll(".*expires=(\\d+).*", "$1");
        assertThat(fetch(url.replace("expires=" + expires, "expires=" + (Long.parseLong(expires) + 3600)))).isEqualTo(403);
    }

    @Test
    void keys_are_stored_only_as_digests() throws Exception {
        String key = server.newKey("digest-check");
        byte[] db = Files.readAllBytes(server.dataDir.resolve("genqueue.db"));
        String wal = Files.exists(server.dataDir.resolve("genqueue.db-wal"))
                ? new String(Files.readAllBytes(server.dataDir.resolve("genqueue.db-wal")), StandardCharsets.ISO_8859_1) : "";
        String secret = key.substring(12);
        assertThat(new String(db, StandardCharsets.ISO_8859_1)).doesNotContain(secret);
        assertThat(wal).doesNotContain(secret);
    }

    private static int fetch(String url) throws Exception {
        HttpResponse<byte[]> r = server.client.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() != 200) {
            JsonNode body = io.genqueue.json.Json.mapper().readTree(r.body());
            assertThat(body.has("detail")).isTrue();
        }
        return r.statusCode();
    }
}
