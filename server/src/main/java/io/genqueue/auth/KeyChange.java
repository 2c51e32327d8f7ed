package io.genqueue.auth;

/**
 * What {@code keys update} changes in a key: each field that is not null replaces the key's; 0
 * removes a limit. See {@link KeyLimits#with}.
 */
public record KeyChange(Double rate, Integer burst, Integer maxQueued, Integer dailyImages, Boolean admin) {

    /** Whether it changes anything at all. */
    public boolean empty() {
        return rate == null && burst == null && maxQueued == null && dailyImages == null && admin == null;
    }
}
