package io.genqueue.provider.router;

import io.genqueue.generation.ErrorType;
import io.genqueue.image.OutputFormat;
import io.genqueue.metrics.Metrics;
import io.genqueue.metrics.ProviderMeters;
import io.genqueue.metrics.ProviderMeters.CallOutcome;
import io.genqueue.provider.Backoff;
import io.genqueue.provider.GenerationRequest;
import io.genqueue.provider.GenerationResult;
import io.genqueue.provider.ImageProvider;
import io.genqueue.provider.ProviderException;
import io.genqueue.provider.ProviderHealth;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Several providers of one model behind one {@link ImageProvider}, in order of preference.
 *
 * <p>Per provider: a concurrency limit, retries with exponential backoff and full jitter that honour
 * the provider's own delay (up to {@link Limits#maxWait}; a longer one is not waited out while holding
 * a slot), and a {@link CircuitBreaker}. A call goes to the first provider whose breaker admits it and
 * that has a free slot; a retryable failure, once its retries are used, falls back to the next one; so
 * does a provider fault that another provider would not share (a bad key, a retired model, no image).
 * A failure that is the request's own (invalid input, content policy) ends the call: the same model
 * behind another provider would refuse it too. When no provider can take the call, the last failure
 * (retryable) goes back to the job runner, which requeues the job with its own backoff: the job waits
 * in the queue, not in a slot.
 *
 * <p>Every failed call leaves a line in the job's log ("gemini: 429 RESOURCE_EXHAUSTED, retrying in
 * 7.5 s"), and every message that leaves this class names the provider.
 *
 * <p>Concurrency: {@code lock} guards the per-provider in-flight counts; a call waiting for a slot
 * waits on {@code slotFreed}. Breakers guard themselves. Cancelling a job interrupts its thread, which
 * aborts the provider call or the wait (both throw {@link InterruptedException}), and the slot is
 * released in every case.
 */
public final class ProviderRouter implements ImageProvider {

    /**
     * How each provider is used; the same for all of them.
     *
     * @param concurrency calls one provider runs at once
     * @param retries retries of a retryable failure on the same provider before falling back
     * @param backoff delays between those retries
     * @param maxWait the longest delay a provider may ask for while the call holds its slot
     * @param breaker when a provider's circuit opens
     */
    public record Limits(int concurrency, int retries, Backoff backoff, Duration maxWait, Breaker breaker) {

        public Limits {
            if (concurrency < 1 || retries < 0) {
                throw new IllegalArgumentException("concurrency >= 1 and retries >= 0: " + concurrency + ", " + retries);
            }
        }
    }

    /**
     * A provider's circuit opens once {@code failureRate} of its last {@code window} calls (and at
     * least {@code minCalls}) failed, and stays open for {@code openFor}; then one trial call decides.
     */
    public record Breaker(int window, int minCalls, double failureRate, Duration openFor) {
        public Breaker {
            if (window < 1 || minCalls < 1 || minCalls > window || failureRate <= 0 || failureRate > 1) {
                throw new IllegalArgumentException("bad breaker settings: " + window + ", " + minCalls + ", " + failureRate);
            }
        }
    }

    /** Waits between retries; tests pass one that records instead of sleeping. */
    interface Sleeper {
        void sleep(Duration d) throws InterruptedException;
    }

    private static final class Route {
        final ImageProvider provider;
        final CircuitBreaker breaker;
        int inFlight; // guarded by the router's lock

        Route(ImageProvider provider, CircuitBreaker breaker) {
            this.provider = provider;
            this.breaker = breaker;
        }
    }

    private final List<Route> routes;
    private final Limits limits;
    private final Backoff backoff;
    private final Sleeper sleeper;
    private final Set<OutputFormat> formats;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition slotFreed = lock.newCondition();
    private final ProviderMeters meters;

    /** @param meters hears every call to a provider: its outcome and duration */
    public ProviderRouter(List<ImageProvider> providers, Limits limits, Clock clock, ProviderMeters meters) {
        this(providers, limits, clock, d -> Thread.sleep(d.toMillis()), meters);
    }

    ProviderRouter(List<ImageProvider> providers, Limits limits, Clock clock, Sleeper sleeper) {
        this(providers, limits, clock, sleeper, Metrics.none().providers());
    }

    private ProviderRouter(List<ImageProvider> providers, Limits limits, Clock clock, Sleeper sleeper, ProviderMeters meters) {
        if (providers.isEmpty()) {
            throw new IllegalArgumentException("no provider");
        }
        List<Route> list = new ArrayList<>();
        EnumSet<OutputFormat> union = EnumSet.noneOf(OutputFormat.class);
        for (ImageProvider p : providers) {
            list.add(new Route(p, new CircuitBreaker(limits.breaker(), clock)));
            union.addAll(p.outputFormats());
        }
        this.routes = List.copyOf(list);
        this.limits = limits;
        this.backoff = limits.backoff();
        this.sleeper = sleeper;
        this.formats = Set.copyOf(union);
        this.meters = meters;
        routes.forEach(r -> meters.register(r.provider.name()));
    }

    /** The providers' names in order, joined by commas. */
    @Override
    public String name() {
        return String.join(",", routes.stream().map(r -> r.provider.name()).toList());
    }

    /** Every format some provider can make; a request goes only to providers that make its format. */
    @Override
    public Set<OutputFormat> outputFormats() {
        return formats;
    }

    /** Calls that can run at once over all providers: more claimed jobs would only wait for a slot. */
    public int capacity() {
        return routes.size() * limits.concurrency();
    }

    /** How long until some provider can take a call: zero unless every circuit is open. */
    public Duration downFor() {
        Duration min = null;
        for (Route r : routes) {
            Duration d = r.breaker.untilProbe();
            if (min == null || d.compareTo(min) < 0) {
                min = d;
            }
        }
        return min;
    }

    public List<ProviderHealth> health() {
        lock.lock();
        try {
            return routes.stream().map(r -> {
                CircuitBreaker.State state = r.breaker.state();
                return new ProviderHealth(r.provider.name(), state.name().toLowerCase(Locale.ROOT), state != CircuitBreaker.State.OPEN,
                        r.inFlight, limits.concurrency());
            }).toList();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public GenerationResult generate(GenerationRequest request) throws InterruptedException {
        Set<Route> tried = new HashSet<>();
        ProviderException last = null;
        Route route;
        while ((route = acquire(request, tried)) != null) {
            tried.add(route);
            try {
                GenerationResult result = callWithRetries(route, request);
                return new GenerationResult(result.images(), result.description(), route.provider.name());
            } catch (ProviderException e) {
                last = named(route, e);
                if (!fallsBack(e)) {
                    throw last;
                }
                Route next = peekNext(request, tried);
                if (next != null) {
                    request.context().warn(last.getMessage() + "; falling back to " + next.provider.name() + ".");
                }
            } finally {
                release(route);
            }
        }
        if (last != null) {
            throw last;
        }
        throw ProviderException.retryable(ErrorType.PROVIDER_UNAVAILABLE, "no provider is available now (" + states()
                + "); the request waits and is tried again", downFor(), null);
    }

    /** Calls one provider, retrying retryable failures; the breaker hears every verdict. */
    private GenerationResult callWithRetries(Route route, GenerationRequest request) throws InterruptedException {
        String name = route.provider.name();
        for (int attempt = 1; ; attempt++) {
            ProviderException failure;
            long started = System.nanoTime();
            try {
                GenerationResult result = route.provider.generate(request);
                route.breaker.succeeded();
                meters.call(name, CallOutcome.SUCCEEDED, System.nanoTime() - started);
                return result;
            } catch (ProviderException e) {
                failure = e;
                if (countsAgainstHealth(e)) {
                    route.breaker.failed();
                    meters.call(name, CallOutcome.FAILED, System.nanoTime() - started);
                } else {
                    route.breaker.succeeded(); // it answered; the request was at fault
                    meters.call(name, CallOutcome.REJECTED, System.nanoTime() - started);
                }
            } catch (InterruptedException | RuntimeException e) {
                route.breaker.abandoned();
                meters.call(name, CallOutcome.ABANDONED, System.nanoTime() - started);
                throw e;
            }
            if (!failure.retryable() || attempt > limits.retries()) {
                throw failure;
            }
            Duration asked = failure.retryAfter().orElse(Duration.ZERO);
            if (asked.compareTo(limits.maxWait()) > 0) {
                request.context().warn(name + ": " + failure.getMessage() + "; it asks for " + seconds(asked)
                        + ", longer than the " + seconds(limits.maxWait()) + " a slot is held for.");
                throw failure;
            }
            Duration delay = backoff.delayAfter(attempt, failure.retryAfter());
            if (route.breaker.state() == CircuitBreaker.State.OPEN) {
                throw failure; // this failure opened it: do not hammer a provider that is down
            }
            request.context().warn(name + ": " + failure.getMessage() + ", retrying in " + seconds(delay) + ".");
            sleeper.sleep(delay);
        }
    }

    /**
     * Waits for a free slot at the first untried provider, in order, whose breaker admits a call and
     * which makes the requested format; null when none is left that could.
     */
    private Route acquire(GenerationRequest request, Set<Route> tried) throws InterruptedException {
        lock.lockInterruptibly();
        try {
            while (true) {
                boolean anyCandidate = false;
                for (Route r : routes) {
                    if (!candidate(r, request, tried)) {
                        continue;
                    }
                    anyCandidate = true;
                    if (r.inFlight < limits.concurrency() && r.breaker.tryAcquire()) {
                        r.inFlight++;
                        return r;
                    }
                }
                if (!anyCandidate) {
                    return null;
                }
                slotFreed.await(); // a slot frees, or a half-open probe reports (both release())
            }
        } finally {
            lock.unlock();
        }
    }

    private void release(Route route) {
        lock.lock();
        try {
            route.inFlight--;
            slotFreed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private Route peekNext(GenerationRequest request, Set<Route> tried) {
        for (Route r : routes) {
            if (candidate(r, request, tried)) {
                return r;
            }
        }
        return null;
    }

    /** Whether {@code r} may take this call: not tried yet, makes the format, circuit not open. */
    private static boolean candidate(Route r, GenerationRequest request, Set<Route> tried) {
        return !tried.contains(r) && r.provider.outputFormats().contains(request.format())
                && r.breaker.state() != CircuitBreaker.State.OPEN;
    }

    /** Whether another provider might succeed where this one failed. */
    private static boolean fallsBack(ProviderException e) {
        return e.retryable() || e.type() == ErrorType.PROVIDER_ERROR || e.type() == ErrorType.PROVIDER_UNAVAILABLE;
    }

    /** Whether the failure says something about the provider (not about the request). */
    private static boolean countsAgainstHealth(ProviderException e) {
        return e.type() != ErrorType.VALIDATION_ERROR && e.type() != ErrorType.CONTENT_POLICY_VIOLATION;
    }

    private static ProviderException named(Route route, ProviderException e) {
        String name = route.provider.name();
        String message = e.getMessage().startsWith(name + ":") ? e.getMessage() : name + ": " + e.getMessage();
        return e.retryable() ? ProviderException.retryable(e.type(), message, e.retryAfter().orElse(null), e)
                : ProviderException.fatal(e.type(), message);
    }

    private String states() {
        return String.join(", ", routes.stream().map(r -> r.provider.name() + " " + r.breaker.state().name().toLowerCase(Locale.ROOT)
                .replace('_', '-')).toList());
    }

    private static String seconds(Duration d) {
        return String.format(Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
    }
}
