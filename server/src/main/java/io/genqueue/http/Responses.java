package io.genqueue.http;

import io.genqueue.json.Json;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerResponse;

/** Writing JSON answers. */
final class Responses {

    private Responses() {
    }

    /** 499 is nginx's, not IANA's: Helidon knows no reason phrase for it. */
    private static final Status CLIENT_CLOSED_REQUEST = Status.create(499, "Client Closed Request");

    static void json(ServerResponse res, int status, Object body) {
        res.status(status == 499 ? CLIENT_CLOSED_REQUEST : Status.create(status));
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.send(Json.write(body));
    }

    /** Sets both request id headers: ours and the one fal's clients read. */
    static void requestId(ServerResponse res, String requestId) {
        res.header("X-Request-Id", requestId);
        res.header("x-fal-request-id", requestId);
    }
}
