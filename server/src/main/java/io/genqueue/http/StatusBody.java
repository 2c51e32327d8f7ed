package io.genqueue.http;

import io.genqueue.queue.JobState;
import io.genqueue.queue.JobView;
import io.genqueue.queue.LogEntry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The status object of the contract, shared by the status endpoint, its stream, and the submit
 * answer. Fields fal's clients rely on are always present in the states they expect them:
 * {@code queue_position} while queued, {@code logs} (null unless asked for) from in progress on.
 */
final class StatusBody {

    private StatusBody() {
    }

    /**
     * @param logs the job's log when the client asked for it ({@code ?logs=1}), else null
     */
    static Map<String, Object> of(JobView job, JobUrls urls, List<LogEntry> logs) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", job.state().apiStatus());
        body.put("request_id", job.id());
        body.put("response_url", urls.response());
        body.put("status_url", urls.status());
        body.put("cancel_url", urls.cancel());
        if (job.state() == JobState.QUEUED) {
            body.put("queue_position", job.queuePosition());
            return body;
        }
        body.put("logs", logs == null ? null : logs(logs));
        if (job.state().isTerminal()) {
            Map<String, Object> metrics = new LinkedHashMap<>();
            metrics.put("inference_time", job.inferenceMillis() == null ? null : job.inferenceMillis() / 1000.0);
            body.put("metrics", metrics);
            if (job.failure() != null) {
                body.put("error", job.failure().message());
                body.put("error_type", job.failure().type().wire());
            }
        }
        return body;
    }

    private static List<Map<String, Object>> logs(List<LogEntry> entries) {
        List<Map<String, Object>> out = new ArrayList<>(entries.size());
        for (LogEntry e : entries) {
            Map<String, Object> line = new LinkedHashMap<>();
            line.put("message", e.message());
            line.put("level", e.level().name());
            line.put("source", "USER");
            line.put("timestamp", e.timestamp().toString());
            out.add(line);
        }
        return out;
    }
}
