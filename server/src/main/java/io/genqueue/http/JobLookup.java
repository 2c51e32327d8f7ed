package io.genqueue.http;

import io.genqueue.auth.ApiKey;
import io.genqueue.queue.JobStore;
import io.genqueue.queue.JobView;
import io.genqueue.queue.RequestIds;
import io.helidon.webserver.http.ServerRequest;
import java.util.Optional;
import java.util.Set;

/**
 * The steps every per-request route shares: the key, the model, the id, the job. Another tenant's
 * job, an id of another model, and a malformed id all look exactly like an unknown id.
 */
final class JobLookup {

    private final Authenticator auth;
    private final JobStore store;
    private final Set<String> models;

    JobLookup(Authenticator auth, JobStore store, Set<String> models) {
        this.auth = auth;
        this.store = store;
        this.models = Set.copyOf(models);
    }

    /** The caller's key and the model of the path; 401 for a bad key, 404 for an unknown model. */
    Caller caller(ServerRequest req) {
        ApiKey key = auth.key(req);
        String model = req.path().pathParameters().get("model");
        if (!serves(model)) {
            throw ApiError.detail(404, "Unknown model: " + model);
        }
        return new Caller(key, model);
    }

    /** The caller's key alone, for routes that learn the model from the body. @throws ApiError 401 */
    ApiKey key(ServerRequest req) {
        return auth.key(req);
    }

    /** The models this server serves. */
    Set<String> models() {
        return models;
    }

    /** Whether {@code model} is one this server serves. */
    boolean serves(String model) {
        return models.contains(model);
    }

    /** The job of the path, if this caller may see it under this model. */
    Optional<JobView> find(Caller caller, ServerRequest req) {
        String id = req.path().pathParameters().get("request_id");
        if (!RequestIds.wellFormed(id)) {
            return Optional.empty();
        }
        return store.find(caller.tenant(), id).filter(job -> job.model().equals(caller.model()));
    }

    /** As {@link #find}, for a status answer: from the store's memory where it keeps the status exact. */
    Optional<JobView> status(Caller caller, ServerRequest req) {
        String id = req.path().pathParameters().get("request_id");
        if (!RequestIds.wellFormed(id)) {
            return Optional.empty();
        }
        return store.status(caller.tenant(), id).filter(job -> job.model().equals(caller.model()));
    }

    record Caller(ApiKey key, String model) {
        String tenant() {
            return key.tenant();
        }
    }
}
