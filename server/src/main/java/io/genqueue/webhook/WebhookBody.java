package io.genqueue.webhook;

import io.genqueue.json.Json;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The body fal's receivers expect: {@code request_id}, {@code gateway_request_id} (the same id:
 * genqueue keeps one id per request across its attempts), {@code status} {@code OK} or
 * {@code ERROR}, {@code payload} (exactly what {@code GET .../response} answers now) and, for an
 * error, {@code error}: fal's "Invalid status code: 422" form, with the details in the payload.
 */
public final class WebhookBody {

    private WebhookBody() {
    }

    /** What {@code GET .../response} answers at this moment: its HTTP status and its JSON body. */
    public record Response(int status, Object body) {
    }

    public static byte[] of(String requestId, Response response) {
        boolean ok = response.status() == 200;
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("request_id", requestId);
        body.put("gateway_request_id", requestId);
        body.put("status", ok ? "OK" : "ERROR");
        body.put("payload", response.body());
        if (!ok) {
            body.put("error", "Invalid status code: " + response.status());
        }
        return Json.write(body);
    }
}
