package io.genqueue.queue;

import io.genqueue.generation.GenerationInput;
import java.time.Instant;

/**
 * A validated request about to be stored.
 *
 * @param startDeadline when the job fails with {@code request_timeout} if it has not started, or null
 * @param idempotencyKey the client's {@code Idempotency-Key}, or null
 * @param requestHash a digest of everything that defines the request, compared when an
 *     idempotency key is reused
 * @param webhookUrl where to POST the result once the job has ended (checked at submit), or null
 * @param webhookBase the base URL of the links in that POST (where the client submitted), or null
 * @param quota the key's limits that the store checks as it stores the job, or null for none
 */
public record NewJob(
        String id,
        String tenant,
        String model,
        Priority priority,
        GenerationInput input,
        Instant createdAt,
        Instant startDeadline,
        String idempotencyKey,
        String requestHash,
        String webhookUrl,
        String webhookBase,
        Quota quota) {

    public NewJob {
        quota = quota == null || !quota.any() ? null : quota;
    }

    /**
     * A job of {@code tenant} for {@code model}, made at {@code createdAt}: normal priority, no
     * start deadline, no idempotency key, no webhook, until set by name.
     */
    public static Builder builder(String id, String tenant, String model, GenerationInput input, Instant createdAt) {
        return new Builder(id, tenant, model, input, createdAt);
    }

    /** Builds a {@link NewJob}. */
    public static final class Builder {
        private final String id;
        private final String tenant;
        private final String model;
        private final GenerationInput input;
        private final Instant createdAt;
        private Priority priority = Priority.NORMAL;
        private Instant startDeadline;
        private String idempotencyKey;
        private String requestHash;
        private String webhookUrl;
        private String webhookBase;
        private Quota quota;

        private Builder(String id, String tenant, String model, GenerationInput input, Instant createdAt) {
            this.id = id;
            this.tenant = tenant;
            this.model = model;
            this.input = input;
            this.createdAt = createdAt;
        }

        public Builder priority(Priority priority) {
            this.priority = priority;
            return this;
        }

        /** When the job fails with {@code request_timeout} if it has not started; null for never. */
        public Builder startDeadline(Instant startDeadline) {
            this.startDeadline = startDeadline;
            return this;
        }

        /** The client's {@code Idempotency-Key} and the digest of the request it names. */
        public Builder idempotency(String key, String requestHash) {
            this.idempotencyKey = key;
            this.requestHash = requestHash;
            return this;
        }

        /** Where to POST the result once the job has ended (null for no webhook), and the base URL of its links. */
        public Builder webhook(String url, String linkBase) {
            this.webhookUrl = url;
            this.webhookBase = linkBase;
            return this;
        }

        /** The limits to check as the job is stored (null or an empty quota: none). */
        public Builder quota(Quota quota) {
            this.quota = quota;
            return this;
        }

        public NewJob build() {
            return new NewJob(id, tenant, model, priority, input, createdAt, startDeadline, idempotencyKey, requestHash,
                    webhookUrl, webhookBase, quota);
        }
    }
}
