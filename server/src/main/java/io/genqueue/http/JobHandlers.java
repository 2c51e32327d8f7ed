package io.genqueue.http;

import io.genqueue.blob.BlobStore;
import io.genqueue.generation.ErrorType;
import io.genqueue.metrics.JobMeters;
import io.genqueue.queue.CancelOutcome;
import io.genqueue.queue.Failure;
import io.genqueue.queue.JobLines;
import io.genqueue.queue.JobResult;
import io.genqueue.queue.JobState;
import io.genqueue.queue.JobStore;
import io.genqueue.queue.JobView;
import io.genqueue.queue.LogEntry;
import io.genqueue.queue.StoredImage;
import io.genqueue.webhook.WebhookBody;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The routes about one request: its status, its result, and cancelling it. */
final class JobHandlers {

    private final JobLookup lookup;
    private final JobStore store;
    private final BlobStore blobs;
    private final ImageLinks links;
    private final BaseUrl baseUrl;
    private final Duration retention;
    private final JobMeters meters;

    JobHandlers(JobLookup lookup, JobStore store, BlobStore blobs, ImageLinks links, BaseUrl baseUrl, Duration retention,
            JobMeters meters) {
        this.meters = meters;
        this.lookup = lookup;
        this.store = store;
        this.blobs = blobs;
        this.links = links;
        this.baseUrl = baseUrl;
        this.retention = retention;
    }

    /** {@code GET .../status}: 202 while queued or running, 200 once completed. */
    void status(ServerRequest req, ServerResponse res) {
        JobLookup.Caller caller = lookup.caller(req);
        JobView job = lookup.status(caller, req).orElseThrow(ApiError::notFound);
        Responses.requestId(res, job.id());
        Responses.json(res, job.state().isTerminal() ? 200 : 202, statusBody(req, caller, job));
    }

    /** The status object of {@code job}, with its log when the client asked for it. */
    Map<String, Object> statusBody(ServerRequest req, JobLookup.Caller caller, JobView job) {
        List<LogEntry> logs = wantsLogs(req) && job.state() != JobState.QUEUED ? store.logs(job.id()) : null;
        return StatusBody.of(job, JobUrls.of(baseUrl.of(req), caller.model(), job.id()), logs);
    }

    private static boolean wantsLogs(ServerRequest req) {
        String value = req.query().first("logs").orElse("0");
        return value.equals("1") || value.equalsIgnoreCase("true");
    }

    /** {@code GET .../response} (and fal's alias without {@code /response}). */
    void response(ServerRequest req, ServerResponse res) {
        JobLookup.Caller caller = lookup.caller(req);
        JobView job = lookup.find(caller, req).orElseThrow(ApiError::notFound);
        Responses.requestId(res, job.id());
        Responses.json(res, 200, result(job, baseUrl.of(req)));
    }

    /**
     * What {@code GET .../response} answers now for the tenant's request, its links under
     * {@code base}: for a webhook's payload, which carries the same answer.
     */
    WebhookBody.Response responseNow(String tenant, String id, String base) {
        try {
            JobView job = store.find(tenant, id).orElseThrow(ApiError::notFound);
            return new WebhookBody.Response(200, result(job, base));
        } catch (ApiError e) {
            return new WebhookBody.Response(e.status(), e.body());
        }
    }

    /** The body of a succeeded job's result; any other answer is thrown as the {@link ApiError} it is. */
    private Map<String, Object> result(JobView job, String base) {
        if (!job.state().isTerminal()) {
            throw ApiError.detail(400, "Request is still in progress");
        }
        if (job.expired()) {
            throw expired();
        }
        if (job.state() == JobState.SUCCEEDED) {
            JobResult result = store.result(job.id()).orElseThrow(this::expired);
            return resultBody(base, job, result);
        }
        throw failed(job.failure());
    }

    private ApiError expired() {
        return ApiError.detail(410, "The result of this request was deleted after the retention period ("
                + retention.toHours() + " h).");
    }

    /** The answer of a job that ended without success, as {@code GET .../response} gives it. */
    static ApiError failed(Failure failure) {
        ErrorType type = failure.type();
        if (type == ErrorType.CANCELLED) {
            return ApiError.detail(499, Failure.CANCELLED_MESSAGE);
        }
        if (type.isInputFault()) {
            List<Object> loc = failure.loc().isEmpty() ? List.of("body") : failure.loc();
            Map<String, Object> detail = new LinkedHashMap<>();
            detail.put("loc", loc);
            detail.put("msg", failure.message());
            detail.put("type", type.wire());
            return new ApiError(422, Map.of("detail", List.of(detail)), Map.of());
        }
        Map<String, String> headers = type == ErrorType.REQUEST_TIMEOUT ? Map.of("X-Fal-Request-Timeout-Type", "user") : Map.of();
        return ApiError.upstream(type.httpStatus(), failure.message(), type.wire(), headers);
    }

    private Map<String, Object> resultBody(String base, JobView job, JobResult result) {
        List<Map<String, Object>> images = new ArrayList<>();
        for (StoredImage image : result.images()) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("url", job.syncMode() ? dataUri(image) : links.url(base, image.blobKey()));
            out.put("content_type", image.contentType());
            out.put("file_name", image.fileName());
            out.put("file_size", image.fileSize());
            out.put("width", image.width());
            out.put("height", image.height());
            images.add(out);
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("images", images);
        body.put("description", result.description());
        return body;
    }

    private String dataUri(StoredImage image) {
        BlobStore.Blob blob = blobs.open(image.blobKey()).orElseThrow(this::expired);
        try (InputStream in = blob.stream()) {
            return "data:" + image.contentType() + ";base64," + Base64.getEncoder().encodeToString(in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code PUT .../cancel}: answers with the contract's {@code {"status": ...}} bodies. */
    void cancel(ServerRequest req, ServerResponse res) {
        JobLookup.Caller caller = lookup.caller(req);
        JobView job = lookup.find(caller, req).orElse(null);
        CancelOutcome outcome = job == null ? CancelOutcome.NOT_FOUND : cancel(job);
        if (job != null) {
            Responses.requestId(res, job.id());
        }
        switch (outcome) {
            case CANCELLED, REQUESTED -> Responses.json(res, 202, Map.of("status", "CANCELLATION_REQUESTED"));
            case ALREADY_COMPLETED -> Responses.json(res, 400, Map.of("status", "ALREADY_COMPLETED"));
            case NOT_FOUND -> Responses.json(res, 404, Map.of("status", "NOT_FOUND"));
        }
    }

    /** Cancels {@code job} for its tenant, counted and logged as every cancel is. Thread-safe. */
    CancelOutcome cancel(JobView job) {
        CancelOutcome outcome = store.cancel(job.tenant(), job.id());
        if (outcome == CancelOutcome.CANCELLED) { // a running job's cancel is counted where its run ends
            meters.cancelled(job.model(), job.tenant());
            JobLines.cancelledQueued(job.id(), job.tenant(), job.model(), job.attempt());
        }
        return outcome;
    }
}
