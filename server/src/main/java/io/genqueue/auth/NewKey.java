package io.genqueue.auth;

/** A key just made: its secret exists only here, to be shown once and never stored. */
public record NewKey(ApiKey key, String secret) {

    @Override
    public String toString() {
        return "NewKey[" + key + ", secret=<redacted>]";
    }
}
