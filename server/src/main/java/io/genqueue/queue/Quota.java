package io.genqueue.queue;

/**
 * The limits a submit is checked against in the transaction that stores it, so that they hold
 * exactly however many submits race, in this process or others. 0 in a field is "no limit".
 *
 * @param keyId the public id of the key submitting (what the daily count is kept by)
 * @param maxQueued the tenant's requests in the queue or running at which the submit is refused
 * @param dailyImages images ({@code num_images}) the key may have accepted per UTC day
 */
public record Quota(String keyId, int maxQueued, int dailyImages) {

    /** What a submit was refused for. */
    public enum Kind {
        MAX_QUEUED,
        DAILY_IMAGES
    }

    public Quota {
        if (keyId == null || maxQueued < 0 || dailyImages < 0) {
            throw new IllegalArgumentException("a quota names its key, and its limits are 0 (none) or positive");
        }
    }

    /** Whether there is anything to check (else the submit costs what it costs without limits). */
    public boolean any() {
        return maxQueued > 0 || dailyImages > 0;
    }
}
