package io.genqueue.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * The format of API keys: {@code gq_<id>_<secret>}, where the id (8 characters) is public, shown by
 * {@code keys list} and used by {@code keys revoke}, and the secret has 160 random bits.
 *
 * <p>Keys are stored as SHA-256 digests. A slow password hash would add nothing: the secret is
 * random and long, so the digest cannot be reversed by guessing, and a fast digest keeps
 * authentication off the hot path's profile.
 */
public final class Keys {

    private static final String ALPHABET = "abcdefghijkmnopqrstuvwxyz23456789"; // no l, 0, 1: easy to read aloud
    private static final Pattern FORMAT = Pattern.compile("gq_[a-z2-9]{8}_[a-z2-9]{32}");
    private static final Pattern TENANT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    private static final SecureRandom RANDOM = new SecureRandom();

    private Keys() {
    }

    /** A fresh key. */
    public static String generate() {
        return "gq_" + random(8) + "_" + random(32);
    }

    /** Whether {@code key} has the shape of one of our keys (cheap to check before a lookup). */
    public static boolean wellFormed(String key) {
        return FORMAT.matcher(key).matches();
    }

    /** The public id inside a well-formed key. */
    public static String idOf(String key) {
        return key.substring(3, 11);
    }

    /** Hex SHA-256 of the key. */
    public static String hash(String key) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    /**
     * @throws IllegalArgumentException when the name is not 1 to 64 letters, digits, '.', '_' or '-'
     *     starting with a letter or digit
     */
    public static String checkTenant(String tenant) {
        if (tenant == null || !TENANT.matcher(tenant).matches()) {
            throw new IllegalArgumentException("tenant name must be 1 to 64 letters, digits, '.', '_' or '-', "
                    + "starting with a letter or digit: " + tenant);
        }
        return tenant;
    }

    private static String random(int length) {
        StringBuilder sb = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            sb.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
        }
        return sb.toString();
    }
}
