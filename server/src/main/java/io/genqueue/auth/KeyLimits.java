package io.genqueue.auth;

import java.math.BigDecimal;

/**
 * What a key may submit; 0 in a field is "no limit". Checked at submit, before the job is stored.
 *
 * @param rate requests per second the key's token bucket refills with
 * @param burst the bucket's size: requests the key may make at once after a quiet spell
 * @param maxQueued the tenant's requests in the queue or running at which this key's submits are refused
 * @param dailyImages images ({@code num_images}) this key may have accepted per UTC day
 */
public record KeyLimits(double rate, int burst, int maxQueued, int dailyImages) {

    public static final KeyLimits NONE = new KeyLimits(0, 0, 0, 0);

    /** Largest rate: beyond it a bucket per key is pointless. */
    public static final double MAX_RATE = 1_000_000;

    /** @throws Invalid for a negative or absurd value, or a burst without a rate */
    public KeyLimits {
        if (!(rate >= 0 && rate <= MAX_RATE)) {
            throw new Invalid(Field.RATE, "rate must be between 0 and " + (long) MAX_RATE + " requests/s: " + rate);
        }
        nonNegative(Field.BURST, burst);
        nonNegative(Field.MAX_QUEUED, maxQueued);
        nonNegative(Field.DAILY_IMAGES, dailyImages);
        if (rate == 0 && burst != 0) {
            throw new Invalid(Field.BURST, "a burst needs a rate");
        }
        if (rate > 0 && burst == 0) {
            burst = defaultBurst(rate);
        }
    }

    /** The limits, by the names the command line's flags and the admin API's fields give them. */
    public enum Field {
        RATE, BURST, MAX_QUEUED, DAILY_IMAGES
    }

    /** A limit value refused, naming the limit, so that each interface can point at its own flag or field. */
    public static final class Invalid extends IllegalArgumentException {
        private final Field field;

        Invalid(Field field, String message) {
            super(message);
            this.field = field;
        }

        public Field field() {
            return field;
        }
    }

    private static void nonNegative(Field field, int value) {
        if (value < 0) {
            throw new Invalid(field, "limits are 0 (none) or positive");
        }
    }

    /** A bucket of one second's worth of requests, at least one. */
    static int defaultBurst(double rate) {
        return (int) Math.max(1, Math.ceil(rate));
    }

    /** Whether any limit is set. */
    public boolean any() {
        return rate > 0 || maxQueued > 0 || dailyImages > 0;
    }

    /** The rate as people write it: {@code 5}, {@code 0.5}. */
    public static String formatRate(double rate) {
        return BigDecimal.valueOf(rate).stripTrailingZeros().toPlainString();
    }

    /**
     * A rate as {@code keys} takes it: {@code N} or {@code N/s}, N a number of requests per second.
     *
     * @throws IllegalArgumentException when it is neither
     */
    public static double parseRate(String text) {
        String number = text.strip();
        if (number.endsWith("/s")) {
            number = number.substring(0, number.length() - 2).strip();
        }
        try {
            double rate = Double.parseDouble(number);
            if (!Double.isFinite(rate) || number.matches(".*[a-zA-Z].*")) {
                throw new NumberFormatException();
            }
            return rate;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("a rate is N/s (requests per second), e.g. 5/s or 0.5/s: " + text);
        }
    }

    /**
     * These limits with {@code change} applied: a field it sets replaces this one's (0 removes
     * the limit); removing the rate removes the burst with it.
     *
     * @throws Invalid for a value no key may have
     */
    public KeyLimits with(KeyChange change) {
        double newRate = change.rate() != null ? change.rate() : rate;
        int newBurst;
        if (change.rate() != null && !(change.rate() >= 0 && change.rate() <= MAX_RATE)) {
            throw new Invalid(Field.RATE, "rate must be between 0 and " + (long) MAX_RATE + " requests/s: " + change.rate());
        }
        if (newRate == 0 && change.burst() != null && change.burst() != 0) {
            throw new Invalid(Field.BURST, "a burst needs a rate (--rate N/s)");
        }
        if (change.burst() != null) {
            nonNegative(Field.BURST, change.burst());
        }
        if (newRate == 0) {
            newBurst = 0;
        } else if (change.burst() != null && change.burst() > 0) {
            newBurst = change.burst();
        } else if (change.burst() != null || change.rate() != null) {
            newBurst = defaultBurst(newRate); // a new rate, or the burst reset: one second's worth
        } else {
            newBurst = burst;
        }
        return new KeyLimits(newRate, newBurst, change.maxQueued() != null ? change.maxQueued() : maxQueued,
                change.dailyImages() != null ? change.dailyImages() : dailyImages);
    }
}
