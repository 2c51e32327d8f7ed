package io.genqueue.blob.s3;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Where and how the S3 blob store keeps images.
 *
 * @param bucket the bucket, which must exist (the service never creates it)
 * @param prefix key prefix without leading or trailing slash; empty for the bucket's root
 * @param endpoint the S3-API endpoint of an S3-compatible server (MinIO, Ceph, R2...); null for AWS
 * @param region the signing region; null takes the SDK's default chain ({@code AWS_REGION}, the
 *     profile), and {@code us-east-1} when that has none and an endpoint is set
 * @param pathStyle address the bucket as {@code endpoint/bucket/key} rather than
 *     {@code bucket.endpoint/key}; most S3-compatible servers need it
 * @param accessKey with {@code secretKey}, explicit credentials; both null take the SDK's default
 *     chain (the {@code AWS_ACCESS_KEY_ID}/{@code AWS_SECRET_ACCESS_KEY} variables, the profile,
 *     container and instance roles)
 * @param secretKey never printed: {@link #toString()} leaves it out
 */
public record S3Settings(String bucket, String prefix, URI endpoint, String region, boolean pathStyle,
        String accessKey, String secretKey) {

    // S3's own bucket naming rules, loosely: what S3-compatible servers accept as well.
    private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.\\-_]{1,61}[a-z0-9]");

    public S3Settings {
        if (bucket == null || !BUCKET.matcher(bucket).matches()) {
            throw new IllegalArgumentException("not an S3 bucket name: " + bucket);
        }
        prefix = prefix == null ? "" : trimSlashes(prefix);
        if (endpoint != null) {
            String scheme = endpoint.getScheme() == null ? "" : endpoint.getScheme().toLowerCase(Locale.ROOT);
            if (!(scheme.equals("http") || scheme.equals("https")) || endpoint.getHost() == null) {
                throw new IllegalArgumentException("the S3 endpoint must be an http(s) URL, got " + endpoint);
            }
        }
        region = region == null || region.isBlank() ? null : region.strip();
        accessKey = blankToNull(accessKey);
        secretKey = blankToNull(secretKey);
        if ((accessKey == null) != (secretKey == null)) {
            throw new IllegalArgumentException("give both the S3 access key and secret key, or neither");
        }
    }

    /**
     * Settings from a location {@code s3://bucket} or {@code s3://bucket/some/prefix} and the rest.
     *
     * @param endpoint an http(s) URL, or null/blank for AWS
     */
    public static S3Settings parse(String location, String endpoint, String region, boolean pathStyle,
            String accessKey, String secretKey) {
        if (location == null || !location.regionMatches(true, 0, "s3://", 0, 5)) {
            throw new IllegalArgumentException("an S3 location looks like s3://bucket/prefix, got " + location);
        }
        String rest = location.substring(5);
        int slash = rest.indexOf('/');
        String bucket = slash < 0 ? rest : rest.substring(0, slash);
        String prefix = slash < 0 ? "" : rest.substring(slash + 1);
        URI uri = null;
        if (endpoint != null && !endpoint.isBlank()) {
            try {
                uri = new URI(endpoint.strip());
            } catch (URISyntaxException e) {
                throw new IllegalArgumentException("the S3 endpoint must be an http(s) URL, got " + endpoint);
            }
        }
        return new S3Settings(bucket, prefix, uri, region, pathStyle, accessKey, secretKey);
    }

    /** The object key of a blob key: the prefix, a slash, the blob key. */
    String objectKey(String blobKey) {
        return prefix.isEmpty() ? blobKey : prefix + "/" + blobKey;
    }

    /** Where the settings point, for logs: {@code s3://bucket/prefix}. */
    public String location() {
        return "s3://" + bucket + (prefix.isEmpty() ? "" : "/" + prefix);
    }

    @Override
    public String toString() {
        return "S3Settings[" + location() + ", endpoint=" + endpoint + ", region=" + region + ", pathStyle=" + pathStyle
                + ", credentials=" + (accessKey == null ? "default chain" : "access key " + accessKey) + "]";
    }

    private static String trimSlashes(String s) {
        int start = 0;
        int end = s.length();
        while (start < end && s.charAt(start) == '/') {
            start++;
        }
        while (end > start && s.charAt(end - 1) == '/') {
            end--;
        }
        return s.substring(start, end);
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.strip();
    }
}
