package io.genqueue.blob.s3;

import io.genqueue.blob.BlobStore;
import io.genqueue.blob.BlobStoreException;
import io.genqueue.blob.FsBlobStore;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4FamilyHttpSigner;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.Delete;
import software.amazon.awssdk.services.s3.model.DeleteObjectsResponse;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.utils.SdkAutoCloseable;

/**
 * Blobs as objects in an S3 bucket (AWS or any S3-compatible server): {@code <prefix>/<job id>/<n>.<ext>},
 * so any number of processes share one image store, and clients fetch images straight from the
 * bucket through presigned links.
 *
 * <p>A put is one PutObject: S3 answers only once the object is stored durably, and an object is
 * replaced whole, never torn. Keys are checked against the same strict pattern as on disk.
 *
 * <p>Presigned links are signed with a signing time rounded down to the hour and an expiry rounded
 * up to the hour, like our own signed links: polling a result yields the same URLs for an hour
 * (cacheable), and every link lives at least the asked time (S3 caps a presigned link at 7 days).
 * The signing time comes from the clock given here, which must be close to the S3 server's.
 */
public final class S3BlobStore implements BlobStore, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(S3BlobStore.class);

    /** The longest life S3 allows a presigned link (SigV4: 7 days). */
    public static final Duration MAX_LINK_TTL = Duration.ofDays(7);

    // Same as FsBlobStore's: a job id can name nothing outside its own folder.
    private static final Pattern JOB_ID = Pattern.compile("[a-z0-9_]{1,64}");
    private static final long HOUR = 3600;
    private static final int DELETE_BATCH = 1000;
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration SOCKET_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration PING_TIMEOUT = Duration.ofSeconds(5);

    private final S3Settings settings;
    private final Clock clock;
    private final S3Client s3;
    private final AwsCredentialsProvider credentials;
    private final Region region;
    private final AwsV4HttpSigner signer = AwsV4HttpSigner.create();

    /** A store over the bucket of {@code settings}; presigned links are signed at the system time. */
    public S3BlobStore(S3Settings settings) {
        this(settings, Clock.systemUTC());
    }

    /**
     * A store over the bucket of {@code settings}. Nothing is sent yet: a wrong bucket or
     * credentials show in {@link #ping()} (and so in {@code /readyz}) and in the first put.
     *
     * @param clock the signing time of presigned links; must be close to the S3 server's time
     */
    public S3BlobStore(S3Settings settings, Clock clock) {
        this.settings = settings;
        this.clock = clock;
        this.region = region(settings);
        this.credentials = settings.accessKey() == null ? DefaultCredentialsProvider.builder().build()
                : StaticCredentialsProvider.create(AwsBasicCredentials.create(settings.accessKey(), settings.secretKey()));
        S3ClientBuilder builder = S3Client.builder()
                .httpClientBuilder(UrlConnectionHttpClient.builder()
                        .connectionTimeout(CONNECT_TIMEOUT)
                        .socketTimeout(SOCKET_TIMEOUT))
                .overrideConfiguration(o -> o.apiCallTimeout(CALL_TIMEOUT))
                .region(region)
                .credentialsProvider(credentials)
                .forcePathStyle(settings.pathStyle());
        if (settings.endpoint() != null) {
            // S3-compatible servers differ in which of the newer checksum headers and trailers they
            // accept; sending checksums only where the API requires them works with all of them.
            builder.endpointOverride(settings.endpoint())
                    .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                    .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
        }
        this.s3 = builder.build();
    }

    private static Region region(S3Settings settings) {
        if (settings.region() != null) {
            return Region.of(settings.region());
        }
        try {
            return new DefaultAwsRegionProviderChain().getRegion();
        } catch (SdkException e) {
            if (settings.endpoint() != null) {
                return Region.US_EAST_1;
            }
            throw new IllegalArgumentException("no S3 region: set it in the settings or in AWS_REGION", e);
        }
    }

    @Override
    public void put(String key, byte[] bytes, String contentType) {
        requireKey(key);
        try {
            s3.putObject(p -> p.bucket(settings.bucket()).key(settings.objectKey(key)).contentType(contentType),
                    RequestBody.fromBytes(bytes));
        } catch (SdkException e) {
            throw new BlobStoreException("cannot store image " + key + " in " + settings.location() + ": " + reason(e), e);
        }
    }

    @Override
    public Optional<Blob> open(String key) {
        if (!FsBlobStore.validKey(key)) {
            return Optional.empty();
        }
        try {
            ResponseInputStream<GetObjectResponse> in = s3.getObject(g -> g.bucket(settings.bucket())
                    .key(settings.objectKey(key)));
            return Optional.of(new Blob(in, in.response().contentLength()));
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        } catch (S3Exception e) {
            if (e.statusCode() == 404 && !"NoSuchBucket".equals(code(e))) {
                return Optional.empty();
            }
            throw new BlobStoreException("cannot read image " + key + " from " + settings.location() + ": " + reason(e), e);
        } catch (SdkException e) {
            throw new BlobStoreException("cannot read image " + key + " from " + settings.location() + ": " + reason(e), e);
        }
    }

    @Override
    public void deleteJob(String jobId) {
        if (!JOB_ID.matcher(jobId).matches()) {
            throw new IllegalArgumentException("not a job id: " + jobId);
        }
        // The trailing slash keeps job "ab" from matching the images of job "abc".
        String prefix = settings.objectKey(jobId) + "/";
        try {
            List<ObjectIdentifier> batch = new ArrayList<>();
            for (S3Object object : s3.listObjectsV2Paginator(l -> l.bucket(settings.bucket()).prefix(prefix)).contents()) {
                batch.add(ObjectIdentifier.builder().key(object.key()).build());
                if (batch.size() == DELETE_BATCH) {
                    delete(batch);
                    batch = new ArrayList<>();
                }
            }
            if (!batch.isEmpty()) {
                delete(batch);
            }
        } catch (SdkException e) {
            throw new BlobStoreException("cannot delete the images of " + jobId + " in " + settings.location() + ": "
                    + reason(e), e);
        }
    }

    @Override
    public List<String> keys(String jobId) {
        if (!JOB_ID.matcher(jobId).matches()) {
            throw new IllegalArgumentException("not a job id: " + jobId);
        }
        String prefix = settings.objectKey(jobId) + "/";
        String strip = settings.objectKey("");
        try {
            List<String> keys = new ArrayList<>();
            for (S3Object object : s3.listObjectsV2Paginator(l -> l.bucket(settings.bucket()).prefix(prefix)).contents()) {
                keys.add(object.key().substring(strip.length()));
            }
            return keys;
        } catch (SdkException e) {
            throw new IllegalStateException("cannot list the images of " + jobId + " in " + settings.location() + ": "
                    + reason(e), e);
        }
    }

    @Override
    public void delete(java.util.Collection<String> keys) {
        List<ObjectIdentifier> batch = new ArrayList<>();
        try {
            for (String key : keys) {
                requireKey(key);
                batch.add(ObjectIdentifier.builder().key(settings.objectKey(key)).build());
                if (batch.size() == DELETE_BATCH) {
                    delete(batch);
                    batch = new ArrayList<>();
                }
            }
            if (!batch.isEmpty()) {
                delete(batch);
            }
        } catch (SdkException e) {
            throw new IllegalStateException("cannot delete images in " + settings.location() + ": " + reason(e), e);
        }
    }

    private void delete(List<ObjectIdentifier> objects) {
        DeleteObjectsResponse response = s3.deleteObjects(d -> d.bucket(settings.bucket())
                .delete(Delete.builder().objects(objects).quiet(true).build()));
        // Deleting a key that is already gone is a success in S3; what is listed here failed.
        if (response.hasErrors() && !response.errors().isEmpty()) {
            var first = response.errors().get(0);
            throw new BlobStoreException(response.errors().size() + " image(s) could not be deleted, first "
                    + first.key() + ": " + first.code() + " " + first.message());
        }
    }

    /** Whether the bucket answers to our credentials (HeadBucket). */
    @Override
    public boolean ping() {
        try {
            s3.headBucket(h -> h.bucket(settings.bucket())
                    .overrideConfiguration(o -> o.apiCallTimeout(PING_TIMEOUT)));
            return true;
        } catch (SdkException e) {
            log.warn("S3 bucket {} does not answer: {}", settings.location(), reason(e));
            return false;
        }
    }

    @Override
    public Optional<URI> directUrl(String key, Duration ttl) {
        return presignedUrl(key, ttl);
    }

    /**
     * A presigned GET link to {@code key} that lives at least {@code ttl} (at most 7 days), with
     * signing time and expiry on whole hours (see the class comment). Empty for a key this store
     * could not hold. The link names the object whether or not it exists; S3 answers 404 then.
     */
    public Optional<URI> presignedUrl(String key, Duration ttl) {
        if (!FsBlobStore.validKey(key)) {
            return Optional.empty();
        }
        if (ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException("a link needs a positive lifetime, got " + ttl);
        }
        long now = clock.millis() / 1000;
        long signedAt = Math.floorDiv(now, HOUR) * HOUR;
        long expires = Math.ceilDiv(now + ttl.toSeconds(), HOUR) * HOUR;
        long lifetime = Math.min(expires - signedAt, MAX_LINK_TTL.toSeconds());
        URI object = objectUrl(key);
        SdkHttpRequest request = SdkHttpRequest.builder().method(SdkHttpMethod.GET).uri(object).build();
        SignedRequest signed = signer.sign(r -> r
                .identity(credentials.resolveCredentials())
                .request(request)
                .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "s3")
                .putProperty(AwsV4HttpSigner.REGION_NAME, region.id())
                .putProperty(AwsV4FamilyHttpSigner.AUTH_LOCATION, AwsV4FamilyHttpSigner.AuthLocation.QUERY_STRING)
                .putProperty(AwsV4FamilyHttpSigner.EXPIRATION_DURATION, Duration.ofSeconds(lifetime))
                // S3 signs the path as it is sent, once encoded, and a presigned GET has no payload.
                .putProperty(AwsV4FamilyHttpSigner.DOUBLE_URL_ENCODE, false)
                .putProperty(AwsV4FamilyHttpSigner.NORMALIZE_PATH, false)
                .putProperty(AwsV4FamilyHttpSigner.PAYLOAD_SIGNING_ENABLED, false)
                .putProperty(HttpSigner.SIGNING_CLOCK, Clock.fixed(Instant.ofEpochSecond(signedAt), ZoneOffset.UTC)));
        return Optional.of(signed.request().getUri());
    }

    /** The object's unsigned URL, addressed as the client addresses it (endpoint, path style). */
    private URI objectUrl(String key) {
        try {
            return s3.utilities().getUrl(u -> u.bucket(settings.bucket()).key(settings.objectKey(key))).toURI();
        } catch (URISyntaxException e) {
            throw new IllegalStateException("the SDK built an invalid URL for " + key, e);
        }
    }

    @Override
    public void close() {
        s3.close();
        // The client does not close a provider it was handed; the default chain holds refreshers.
        if (credentials instanceof SdkAutoCloseable closeable) {
            closeable.close();
        }
    }

    private static void requireKey(String key) {
        if (!FsBlobStore.validKey(key)) {
            throw new IllegalArgumentException("not a blob key: " + key);
        }
    }

    private static String code(S3Exception e) {
        return e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
    }

    /** The SDK's message without the request's details, for logs and exceptions. */
    private static String reason(SdkException e) {
        if (e instanceof S3Exception s3e) {
            String code = code(s3e);
            return "HTTP " + s3e.statusCode() + (code == null ? "" : " " + code);
        }
        return e.getClass().getSimpleName() + ": " + e.getMessage();
    }
}
