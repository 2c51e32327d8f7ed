package io.genqueue.queue;

import java.security.SecureRandom;
import java.time.Clock;
import java.util.regex.Pattern;

/**
 * Request ids: {@code req_} and a lowercase ULID (48 bits of milliseconds, 80 random bits, in
 * Crockford's base 32), so ids sort by time and reveal nothing guessable.
 */
public final class RequestIds {

    public static final String PREFIX = "req_";
    private static final char[] ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz".toCharArray();
    private static final Pattern FORMAT = Pattern.compile("req_[0-7][0-9abcdefghjkmnpqrstvwxyz]{25}");
    /**
     * DRBG (NIST SP 800-90A, seeded by the system), not the platform default: on Linux that is
     * NativePRNG, which reads /dev/urandom under a global lock on every call, a system call per
     * submit that showed as 3 % of a server's CPU under submit load.
     */
    private static final SecureRandom RANDOM = drbg();

    private RequestIds() {
    }

    private static SecureRandom drbg() {
        try {
            return SecureRandom.getInstance("DRBG");
        } catch (java.security.NoSuchAlgorithmException e) {
            return new SecureRandom(); // every JDK since 9 has DRBG; this is only a fallback
        }
    }

    public static String next(Clock clock) {
        long time = clock.millis();
        byte[] random = new byte[10];
        RANDOM.nextBytes(random);
        char[] out = new char[26];
        // 48-bit time: 10 characters of 5 bits (the first holds 3 bits).
        for (int i = 9; i >= 0; i--) {
            out[i] = ALPHABET[(int) (time & 31)];
            time >>>= 5;
        }
        // 80 random bits: 16 characters.
        long high = 0;
        for (int i = 0; i < 5; i++) {
            high = (high << 8) | (random[i] & 0xff);
        }
        long low = 0;
        for (int i = 5; i < 10; i++) {
            low = (low << 8) | (random[i] & 0xff);
        }
        for (int i = 17; i >= 10; i--) {
            out[i] = ALPHABET[(int) (high & 31)];
            high >>>= 5;
        }
        for (int i = 25; i >= 18; i--) {
            out[i] = ALPHABET[(int) (low & 31)];
            low >>>= 5;
        }
        return PREFIX + new String(out);
    }

    /** Whether {@code id} has the shape of a request id (checked before any lookup). */
    public static boolean wellFormed(String id) {
        return id != null && FORMAT.matcher(id).matches();
    }
}
