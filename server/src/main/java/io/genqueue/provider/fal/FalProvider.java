package io.genqueue.provider.fal;

import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.generation.ErrorType;
import io.genqueue.image.DataUri;
import io.genqueue.image.ImageData;
import io.genqueue.image.OutputFormat;
import io.genqueue.image.Units;
import io.genqueue.json.Json;
import io.genqueue.provider.CallContext;
import io.genqueue.provider.GenerationRequest;
import io.genqueue.provider.GenerationResult;
import io.genqueue.provider.ImageProvider;
import io.genqueue.provider.ProviderException;
import io.genqueue.provider.ProviderSettings;
import io.genqueue.provider.Transcoder;
import io.genqueue.provider.Upstream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * fal.ai's queue as the upstream ({@code fal-ai/nano-banana}, and {@code .../edit} with reference
 * images): submit, keep the ticket with the job, follow {@code status_url} until
 * {@code COMPLETED}, fetch {@code response_url}, download the images.
 *
 * <p>One attempt never submits twice: the ticket is saved ({@link CallContext#saveUpstream}) right
 * after the submit, and an attempt that finds a saved ticket resumes that request (a new one only
 * when fal no longer knows it). When the call is interrupted, the upstream request is cancelled
 * only if the job was cancelled ({@link CallContext#cancelled}); after a shutdown it keeps running
 * upstream for the next attempt to collect.
 *
 * <p>The whole call, from submit to the last image byte, is bounded by
 * {@link ProviderSettings#callTimeout}: past it the request is cancelled upstream and the failure is
 * retryable. The key goes only to the configured base URL's origin (never to image hosts, never
 * into a message).
 */
public final class FalProvider implements ImageProvider {

    public static final String DEFAULT_MODEL = "fal-ai/nano-banana";
    public static final String DEFAULT_BASE_URL = "https://queue.fal.run";

    private static final Logger log = LoggerFactory.getLogger(FalProvider.class);

    private static final Duration FIRST_POLL = Duration.ofMillis(250);
    private static final Duration MAX_POLL = Duration.ofSeconds(1);
    /** One exchange may take this long at most, within the call's deadline. */
    private static final Duration MAX_EXCHANGE = Duration.ofSeconds(30);
    /** A cancel is best effort: it may not hold up an interrupted worker. */
    private static final Duration CANCEL_TIMEOUT = Duration.ofMillis(500);
    /** Status or result fetches that may fail in a row (fal's own gateway has transient 5xx) before giving up. */
    private static final int MAX_POLL_FAILURES = 3;
    private static final long MAX_JSON_BYTES = 4L * 1024 * 1024;
    private static final long MAX_IMAGE_BYTES = 64L * 1024 * 1024;

    private final URI base;
    private final String apiKey;
    private final boolean sendsImageSize;
    private final String app;
    private final Duration callTimeout;
    private final Upstream api;
    private final Upstream files;

    /**
     * @param settings {@code baseUrl} defaults to {@link #DEFAULT_BASE_URL}, {@code model} (the app
     *     id, with or without {@code /edit}) to {@link #DEFAULT_MODEL}; the key is required
     */
    public FalProvider(ProviderSettings settings) {
        if (settings.apiKey() == null || settings.apiKey().isBlank()) {
            throw new IllegalArgumentException("the fal provider needs an API key");
        }
        String baseUrl = settings.baseUrl() == null ? DEFAULT_BASE_URL : settings.baseUrl().toString();
        this.base = URI.create(baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl);
        this.apiKey = settings.apiKey().strip();
        this.sendsImageSize = settings.sendsImageSize();
        this.app = FalWire.app(settings.model() == null || settings.model().isBlank() ? DEFAULT_MODEL : settings.model());
        this.callTimeout = settings.callTimeout() == null ? Duration.ofMinutes(2) : settings.callTimeout();
        Duration connect = settings.connectTimeout() == null ? Duration.ofSeconds(10) : settings.connectTimeout();
        // The key must not follow a redirect to another host, so API calls never follow one.
        this.api = Upstream.api(connect);
        this.files = Upstream.files(connect);
    }

    @Override
    public String name() {
        return FalWire.PROVIDER;
    }

    /**
     * PNG and JPEG, as fal makes them, and WebP converted here from fal's PNG where a WebP encoder
     * runs (only later versions of fal's schema list WebP themselves).
     */
    @Override
    public Set<OutputFormat> outputFormats() {
        return Transcoder.outputFormats();
    }

    @Override
    public GenerationResult generate(GenerationRequest request) throws InterruptedException {
        Call call = new Call(request);
        try {
            return call.run();
        } catch (InterruptedException e) {
            call.interrupted();
            throw e;
        } catch (ProviderException e) {
            throw redacted(e);
        }
    }

    /** The key can only reach a message through upstream text echoing it; take it out if so. */
    private ProviderException redacted(ProviderException e) {
        String message = e.getMessage();
        if (message == null || !message.contains(apiKey)) {
            return e;
        }
        return e.withMessage(message.replace(apiKey, "[redacted]"));
    }

    /** One generate call: its deadline and the upstream request it follows. */
    private final class Call {
        private final GenerationRequest request;
        private final CallContext context;
        private final Upstream.Deadline deadline;
        private Ticket ticket;

        Call(GenerationRequest request) {
            this.request = request;
            this.context = request.context();
            this.deadline = Upstream.Deadline.after(callTimeout);
        }

        GenerationResult run() throws InterruptedException {
            Optional<Ticket> saved = context.upstream().flatMap(Ticket::fromJson).map(t -> FalWire.onBase(base, t));
            if (saved.isPresent()) {
                ticket = saved.get();
                context.info("fal: resuming upstream request " + ticket.requestId());
                Optional<JsonNode> result = awaitResult();
                if (result.isPresent()) {
                    return collect(result.get());
                }
                context.info("fal: upstream request " + ticket.requestId() + " is no longer known upstream; submitting anew");
                ticket = null;
            }
            submit();
            Optional<JsonNode> result = awaitResult();
            if (result.isEmpty()) {
                throw giveUp(ProviderException.retryable(ErrorType.PROVIDER_ERROR,
                        "upstream request " + ticket.requestId() + " vanished from the queue (HTTP 404)", null, null));
            }
            return collect(result.get());
        }

        private void submit() throws InterruptedException {
            String endpoint = FalWire.endpoint(app, request);
            byte[] body = Json.write(FalWire.input(request, sendsImageSize));
            HttpRequest post = keyed(URI.create(base + "/" + endpoint))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                    .build();
            Upstream.Answer answer;
            try {
                answer = api.send(post, MAX_JSON_BYTES, exchangeDeadline());
            } catch (ProviderException e) {
                throw e.withMessage("the submit failed: " + e.getMessage());
            }
            if (answer.status() != 200 && answer.status() != 201 && answer.status() != 202) {
                throw FalWire.classify("submit", answer.status(), answer.body(), answer.headers(), app);
            }
            JsonNode json = FalWire.parseOrNull(answer.body());
            if (json == null) {
                throw ProviderException.retryable(ErrorType.PROVIDER_ERROR, "the submit answer was not JSON", null, null);
            }
            ticket = FalWire.ticket(json, base, app);
            try {
                context.saveUpstream(ticket.toJson());
            } catch (RuntimeException e) {
                cancelQuietly(); // nobody could resume it: do not let it run (and bill) for nothing
                throw e;
            }
            context.info("fal: submitted upstream request " + ticket.requestId() + " to " + endpoint);
        }

        /** Polls until the request completes, then fetches its result; empty when fal does not know the request. */
        private Optional<JsonNode> awaitResult() throws InterruptedException {
            Duration pause = FIRST_POLL;
            int failures = 0;
            FalWire.Status last = FalWire.Status.IN_QUEUE;
            while (true) {
                Upstream.Answer answer = null;
                String failure;
                try {
                    answer = api.send(keyed(ticket.statusUrl()).GET().build(), MAX_JSON_BYTES, exchangeDeadline());
                    failure = answer.status() >= 500 || answer.status() == 429 ? "HTTP " + answer.status() : null;
                } catch (ProviderException e) {
                    failure = e.getMessage();
                }
                if (failure == null && answer.status() == 404) {
                    return Optional.empty();
                }
                if (failure == null && answer.status() != 200 && answer.status() != 202) {
                    throw giveUp(FalWire.classify("status", answer.status(), answer.body(), answer.headers(), app));
                }
                if (failure == null) {
                    failures = 0;
                    JsonNode json = FalWire.parseOrNull(answer.body());
                    FalWire.Status status = json == null ? FalWire.Status.UNKNOWN : FalWire.status(json);
                    if (status == FalWire.Status.COMPLETED) {
                        return fetchResult();
                    }
                    if (status != FalWire.Status.UNKNOWN) {
                        last = status;
                    }
                } else if (++failures > MAX_POLL_FAILURES) {
                    throw giveUp(ProviderException.retryable(ErrorType.PROVIDER_UNAVAILABLE,
                            "status checks of upstream request " + ticket.requestId() + " kept failing (" + failure + ")",
                            null, null));
                }
                if (deadline.passed()) {
                    throw giveUp(ProviderException.retryable(ErrorType.PROVIDER_UNAVAILABLE, "no result within "
                            + Units.duration(callTimeout) + " (upstream request " + ticket.requestId() + " was still " + last
                            + "); cancelled it", null, null));
                }
                Thread.sleep(Math.max(1, Math.min(pause.toMillis(), deadline.left().toMillis())));
                pause = pause.multipliedBy(3).dividedBy(2);
                if (pause.compareTo(MAX_POLL) > 0) {
                    pause = MAX_POLL;
                }
            }
        }

        private Optional<JsonNode> fetchResult() throws InterruptedException {
            int failures = 0;
            while (true) {
                Upstream.Answer answer;
                try {
                    answer = api.send(keyed(ticket.responseUrl()).GET().build(), MAX_JSON_BYTES, exchangeDeadline());
                } catch (ProviderException e) {
                    if (++failures > MAX_POLL_FAILURES) {
                        throw giveUp(e.withMessage("fetching the result of upstream request " + ticket.requestId()
                                + " kept failing (" + e.getMessage() + ")"));
                    }
                    continue;
                }
                if (answer.status() == 404) {
                    return Optional.empty();
                }
                if (answer.status() >= 500 && ++failures <= MAX_POLL_FAILURES) {
                    continue; // a completed result is safe to fetch again
                }
                if (answer.status() != 200) {
                    throw FalWire.classify("result", answer.status(), answer.body(), answer.headers(), app);
                }
                JsonNode json = FalWire.parseOrNull(answer.body());
                if (json == null || !json.isObject()) {
                    throw ProviderException.retryable(ErrorType.PROVIDER_ERROR,
                            "the result of upstream request " + ticket.requestId() + " was not valid JSON", null, null);
                }
                return Optional.of(json);
            }
        }

        private GenerationResult collect(JsonNode json) throws InterruptedException {
            FalWire.Result result = FalWire.result(json);
            List<FalWire.ResultImage> wanted = result.images().size() > request.numImages()
                    ? result.images().subList(0, request.numImages()) : result.images();
            if (wanted.size() < request.numImages()) {
                context.warn("fal: asked for " + request.numImages() + " image(s), got " + wanted.size());
            }
            List<ImageData> images = new ArrayList<>();
            for (int i = 0; i < wanted.size(); i++) {
                images.add(Transcoder.to(download(wanted.get(i).url(), i), request.format(), name()));
            }
            return new GenerationResult(images, result.description());
        }

        private byte[] download(String url, int index) throws InterruptedException {
            if (DataUri.looksLikeDataUri(url)) {
                try {
                    return DataUri.parse(url, MAX_IMAGE_BYTES).bytes();
                } catch (IllegalArgumentException e) {
                    throw ProviderException.fatal(ErrorType.PROVIDER_ERROR, "image " + index + " was not a usable data URI");
                }
            }
            URI uri;
            try {
                uri = URI.create(url);
            } catch (IllegalArgumentException e) {
                throw ProviderException.fatal(ErrorType.PROVIDER_ERROR, "image " + index + " has an invalid URL");
            }
            if (!"https".equalsIgnoreCase(uri.getScheme()) && !"http".equalsIgnoreCase(uri.getScheme())) {
                throw ProviderException.fatal(ErrorType.PROVIDER_ERROR, "image " + index + " has a URL that is not http(s)");
            }
            Upstream.Answer answer;
            try {
                // No key: image URLs point at fal's CDN, which is public.
                answer = files.send(HttpRequest.newBuilder(uri).GET().build(), MAX_IMAGE_BYTES, exchangeDeadline());
            } catch (ProviderException e) {
                throw e.withMessage("downloading image " + index + " failed: " + e.getMessage());
            }
            if (answer.status() != 200) {
                throw ProviderException.retryable(ErrorType.PROVIDER_ERROR,
                        "downloading image " + index + " answered HTTP " + answer.status(), null, null);
            }
            return answer.body();
        }

        /** The call's deadline, or {@link #MAX_EXCHANGE} from now when that comes first. */
        private Upstream.Deadline exchangeDeadline() {
            return deadline.atMost(MAX_EXCHANGE);
        }

        /** The request is abandoned (the next attempt starts afresh): cancel it upstream so it bills nothing more. */
        private ProviderException giveUp(ProviderException e) {
            cancelQuietly();
            return e;
        }

        /** The thread was interrupted: cancel upstream only when the job was cancelled; a stop for a shutdown keeps it. */
        void interrupted() {
            if (ticket == null) {
                return;
            }
            if (context.cancelled()) {
                cancelQuietly();
            } else {
                log.debug("interrupted; upstream request {} left running for the next attempt", ticket.requestId());
            }
        }

        /** Best effort, bounded by {@link #CANCEL_TIMEOUT}; keeps the caller's interrupt status. */
        private void cancelQuietly() {
            if (ticket == null) {
                return;
            }
            boolean interrupted = Thread.interrupted();
            try {
                HttpRequest put = keyed(ticket.cancelUrl()).PUT(HttpRequest.BodyPublishers.noBody()).build();
                Upstream.Answer answer = api.send(put, MAX_JSON_BYTES, Upstream.Deadline.after(CANCEL_TIMEOUT));
                log.debug("cancel of upstream request {} answered HTTP {}", ticket.requestId(), answer.status());
            } catch (InterruptedException | RuntimeException e) {
                log.debug("cancel of upstream request {} failed: {}", ticket.requestId(), e.toString());
            } finally {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    private HttpRequest.Builder keyed(URI uri) {
        return HttpRequest.newBuilder(uri).header("Authorization", "Key " + apiKey).header("Accept", "application/json");
    }
}
