package io.genqueue.store.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.genqueue.generation.GenerationInput;
import io.genqueue.queue.CancelOutcome;
import io.genqueue.queue.Claim;
import io.genqueue.queue.JobListener;
import io.genqueue.queue.JobResult;
import io.genqueue.queue.JobState;
import io.genqueue.queue.JobView;
import io.genqueue.queue.LogEntry;
import io.genqueue.queue.NewJob;
import io.genqueue.queue.Outcome;
import io.genqueue.queue.Priority;
import io.genqueue.queue.RequestIds;
import io.genqueue.queue.SubmitOutcome;
import io.genqueue.testing.Eventually;
import io.genqueue.testing.SettableClock;
import io.genqueue.worker.RunningJobs;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Several store instances on one schema, each with its own pool and lease owner id: what separate
 * processes of one deployment do to each other. Every test gets a fresh schema.
 */
class PostgresMultiStoreTest {

    private static final TestSchemas schemas = new TestSchemas();
    private static final Duration LEASE = Duration.ofSeconds(30);
    private static final Duration WAIT = Duration.ofSeconds(10); // a deadline for things that take milliseconds

    private final SettableClock clock = new SettableClock();
    private final List<PostgresJobStore> opened = new ArrayList<>();
    private String url;

    @BeforeEach
    void freshSchema() {
        url = schemas.newSchemaUrl();
    }

    @AfterEach
    void closeStores() {
        opened.forEach(PostgresJobStore::close);
    }

    @AfterAll
    static void dropSchemas() {
        schemas.close();
    }

    private PostgresJobStore open(PostgresConfig config) {
        PostgresJobStore store = PostgresJobStore.open(config, clock);
        opened.add(store);
        return store;
    }

    private PostgresJobStore open() {
        return open(PostgresConfig.of(url).withPoolSize(4));
    }

    private NewJob job(String key) {
        GenerationInput input = GenerationInput.builder("a prompt").build();
        return NewJob.builder(RequestIds.next(clock), "t1", "nano_banana", input, clock.instant())
                .idempotency(key, key == null ? null : "hash").build();
    }

    private static String created(SubmitOutcome outcome) {
        assertThat(outcome).isInstanceOf(SubmitOutcome.Created.class);
        return ((SubmitOutcome.Created) outcome).job().id();
    }

    private static void awaitListening(PostgresJobStore store) {
        Eventually.until(WAIT, "the store started listening", store::listening);
    }

    private static Outcome success() {
        return new Outcome.Succeeded(new JobResult(List.of(), ""), 1);
    }

    @Test
    void three_processes_claim_two_thousand_jobs_and_each_job_is_claimed_once() throws Exception {
        PostgresJobStore a = open();
        PostgresJobStore b = open();
        PostgresJobStore c = open();
        int jobs = 2_000;
        Map<String, Integer> claims = new ConcurrentHashMap<>();
        AtomicInteger finished = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        for (PostgresJobStore submitter : List.of(a, b)) {
            for (int t = 0; t < 4; t++) {
                threads.add(Thread.ofVirtual().start(() -> {
                    for (int i = 0; i < jobs / 8; i++) {
                        submitter.submit(job(null));
                    }
                }));
            }
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        for (PostgresJobStore worker : List.of(a, b, c)) {
            for (int t = 0; t < 2; t++) {
                threads.add(Thread.ofPlatform().start(() -> {
                    while (finished.get() < jobs && System.nanoTime() < deadline) {
                        for (Claim claim : worker.claim(7, LEASE)) {
                            claims.merge(claim.jobId(), 1, Integer::sum);
                            if (worker.finish(claim, success(), LogEntry.info(clock.instant(), "done"))) {
                                finished.incrementAndGet();
                            }
                        }
                    }
                }));
            }
        }
        for (Thread t : threads) {
            t.join();
        }
        assertThat(claims).hasSize(jobs);
        assertThat(claims.values()).allMatch(n -> n == 1);
        assertThat(finished.get()).isEqualTo(jobs);
        assertThat(a.claim(10, LEASE)).isEmpty();
    }

    @Test
    void processes_submitting_to_a_new_lane_at_once_make_it_once_and_never_share_a_ticket() throws Exception {
        List<PostgresJobStore> stores = List.of(open(), open(), open(), open());
        int each = 50;
        CyclicBarrier start = new CyclicBarrier(stores.size() * 2);
        List<Thread> threads = new ArrayList<>();
        for (PostgresJobStore store : stores) {
            for (int t = 0; t < 2; t++) {
                threads.add(Thread.ofVirtual().start(() -> {
                    try {
                        start.await();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                    for (int i = 0; i < each; i++) {
                        GenerationInput input = GenerationInput.builder("a prompt").build();
                        store.submit(NewJob.builder(RequestIds.next(clock), "t1", "brand_new_model", input, clock.instant())
                                .priority(Priority.LOW).build());
                    }
                }));
            }
        }
        for (Thread t : threads) {
            t.join();
        }
        try (java.sql.Connection c = TestSchemas.connect(url); java.sql.Statement s = c.createStatement()) {
            try (java.sql.ResultSet rs = s.executeQuery("SELECT count(*) FROM queue_lanes WHERE model = 'brand_new_model'")) {
                rs.next();
                assertThat(rs.getLong(1)).as("lanes made").isEqualTo(1);
            }
            try (java.sql.ResultSet rs = s.executeQuery("SELECT count(*), count(DISTINCT ticket) FROM jobs WHERE model = 'brand_new_model'")) {
                rs.next();
                assertThat(rs.getLong(1)).isEqualTo(stores.size() * 2L * each);
                assertThat(rs.getLong(2)).as("distinct tickets").isEqualTo(rs.getLong(1));
            }
        }
    }

    @Test
    void a_cancel_through_one_process_stops_the_worker_in_the_process_running_the_job() throws Exception {
        PostgresJobStore api = open(PostgresConfig.of(url).withPollInterval(Duration.ofMinutes(10)));
        PostgresJobStore worker = open(PostgresConfig.of(url).withPollInterval(Duration.ofMinutes(10)));
        RunningJobs running = new RunningJobs(clock);
        worker.addListener(running);
        CountDownLatch changed = new CountDownLatch(1);
        String id = created(api.submit(job(null)));
        worker.addListener(new JobListener() {
            @Override
            public void jobChanged(String jobId) {
                if (jobId.equals(id)) {
                    changed.countDown();
                }
            }
        });
        awaitListening(worker);
        Claim claim = worker.claim(1, LEASE).get(0);
        assertThat(claim.jobId()).isEqualTo(id);

        CountDownLatch registered = new CountDownLatch(1);
        AtomicReference<RunningJobs.StopReason> stopped = new AtomicReference<>();
        Thread job = Thread.ofVirtual().start(() -> {
            RunningJobs.Run run = running.register(claim);
            registered.countDown();
            try {
                Thread.sleep(Duration.ofMinutes(1));
            } catch (InterruptedException e) {
                stopped.set(run.stopReason());
            } finally {
                running.unregister(run);
            }
        });
        registered.await();
        assertThat(api.cancel("t1", id)).isEqualTo(CancelOutcome.REQUESTED);

        assertThat(changed.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).as("the worker's process heard of the cancel").isTrue();
        job.join(WAIT.toMillis());
        assertThat(stopped.get()).isEqualTo(RunningJobs.StopReason.CANCELLED);
        assertThat(worker.finish(claim, new Outcome.Cancelled(1), LogEntry.info(clock.instant(), "cancelled"))).isTrue();
        assertThat(api.find("t1", id).orElseThrow().state()).isEqualTo(JobState.CANCELLED);
    }

    @Test
    void without_notifications_a_cancel_reaches_the_worker_at_its_next_lease_renewal() {
        PostgresJobStore api = open();
        PostgresJobStore worker = open(PostgresConfig.of(url).withPollOnly(true));
        List<String> cancels = new ArrayList<>();
        worker.addListener(new JobListener() {
            @Override
            public void cancelRequested(String jobId) {
                cancels.add(jobId);
            }
        });
        String id = created(api.submit(job(null)));
        Claim claim = worker.claim(1, LEASE).get(0);
        assertThat(worker.renew(List.of(claim), LEASE)).isEmpty();
        assertThat(cancels).isEmpty();

        assertThat(api.cancel("t1", id)).isEqualTo(CancelOutcome.REQUESTED);
        assertThat(worker.renew(List.of(claim), LEASE)).isEmpty();
        assertThat(cancels).containsExactly(id);
    }

    @Test
    void two_reapers_racing_reap_each_expired_job_once() throws Exception {
        PostgresJobStore owner = open();
        PostgresJobStore reaperB = open();
        PostgresJobStore reaperC = open();
        for (int i = 0; i < 200; i++) {
            owner.submit(job(null));
        }
        List<Claim> claims = owner.claim(200, LEASE);
        assertThat(claims).hasSize(200);
        clock.advance(LEASE.plusSeconds(1));

        CyclicBarrier start = new CyclicBarrier(2);
        List<String> reaped = Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = new ArrayList<>();
        for (PostgresJobStore reaper : List.of(reaperB, reaperC)) {
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                reaped.addAll(reaper.reapExpiredLeases(3, clock.instant()));
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        assertThat(reaped).hasSize(200).doesNotHaveDuplicates();
        assertThat(owner.finish(claims.get(0), success(), LogEntry.info(clock.instant(), "late"))).isFalse();
        assertThat(reaperB.claim(300, LEASE)).hasSize(200).allSatisfy(c -> assertThat(c.attempt()).isEqualTo(2));
    }

    @Test
    void concurrent_submits_with_one_key_through_two_processes_create_one_job() throws Exception {
        PostgresJobStore a = open();
        PostgresJobStore b = open();
        for (int k = 0; k < 30; k++) {
            String key = "key-" + k;
            CyclicBarrier start = new CyclicBarrier(2);
            List<SubmitOutcome> outcomes = Collections.synchronizedList(new ArrayList<>());
            List<Thread> threads = new ArrayList<>();
            for (PostgresJobStore store : List.of(a, b)) {
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        start.await();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                    outcomes.add(store.submit(job(key)));
                }));
            }
            for (Thread t : threads) {
                t.join();
            }
            assertThat(outcomes).hasSize(2);
            assertThat(outcomes).filteredOn(o -> o instanceof SubmitOutcome.Created).hasSize(1);
            assertThat(outcomes).filteredOn(o -> o instanceof SubmitOutcome.Existing).hasSize(1);
            assertThat(outcomes.stream().map(o -> o instanceof SubmitOutcome.Created cr ? cr.job().id()
                    : ((SubmitOutcome.Existing) o).job().id()).distinct()).hasSize(1);
        }
        assertThat(a.claim(100, LEASE)).hasSize(30);
    }

    @Test
    void a_submit_in_one_process_wakes_another_through_notify() throws Exception {
        PostgresJobStore api = open();
        // Polling every ten minutes: within this test only a notification can wake it.
        PostgresJobStore worker = open(PostgresConfig.of(url).withPollInterval(Duration.ofMinutes(10)));
        awaitListening(worker);
        CountDownLatch woken = new CountDownLatch(1);
        worker.addListener(new JobListener() {
            @Override
            public void jobsAvailable() {
                woken.countDown();
            }
        });
        String id = created(api.submit(job(null)));
        assertThat(woken.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).as("woken by NOTIFY").isTrue();
        assertThat(worker.claim(1, LEASE)).extracting(Claim::jobId).containsExactly(id);
    }

    @Test
    void a_wake_up_within_the_gap_after_another_is_held_back_not_dropped() throws Exception {
        // A gap far longer than a submit, a delivery and a claim: the second submit's wake-up
        // always falls within it.
        PostgresJobStore api = PostgresJobStore.open(PostgresConfig.of(url).withPoolSize(4), clock, Duration.ofMillis(300));
        opened.add(api);
        PostgresJobStore worker = open(PostgresConfig.of(url).withPollInterval(Duration.ofMinutes(10)));
        awaitListening(worker);
        java.util.concurrent.Semaphore heard = new java.util.concurrent.Semaphore(0);
        worker.addListener(new JobListener() {
            @Override
            public void jobsAvailable() {
                heard.release();
            }
        });
        for (int i = 1; i <= 3; i++) {
            String id = created(api.submit(job(null)));
            assertThat(heard.tryAcquire(WAIT.toMillis(), TimeUnit.MILLISECONDS)).as("the wake-up for submit %d", i).isTrue();
            assertThat(worker.claim(1, LEASE)).extracting(Claim::jobId).containsExactly(id);
        }
    }

    @Test
    void a_process_that_runs_no_jobs_hears_changes_but_not_the_work_notifications() throws Exception {
        PostgresJobStore api = open();
        PostgresJobStore otherApi = open(PostgresConfig.of(url).withRunsJobs(false).withPollInterval(Duration.ofMinutes(10)));
        awaitListening(otherApi);
        java.util.concurrent.atomic.AtomicInteger available = new java.util.concurrent.atomic.AtomicInteger();
        CountDownLatch changed = new CountDownLatch(1);
        otherApi.addListener(new JobListener() {
            @Override
            public void jobsAvailable() {
                available.incrementAndGet();
            }

            @Override
            public void jobChanged(String jobId) {
                changed.countDown();
            }
        });
        String id = created(api.submit(job(null)));    // "work available", on the channel workers listen to
        assertThat(api.cancel("t1", id)).isNotNull(); // "changed", on the channel everyone listens to, sent after it
        assertThat(changed.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).as("the change is heard").isTrue();
        // Notifications arrive in the order they were sent: had it listened for work, it would have heard that first.
        assertThat(available.get()).as("work notifications heard by a process without workers").isZero();
    }

    @Test
    void a_poll_only_process_still_picks_up_work_from_another() throws Exception {
        PostgresJobStore api = open();
        PostgresJobStore worker = open(PostgresConfig.of(url).withPollOnly(true).withPollInterval(Duration.ofMillis(50)));
        CountDownLatch woken = new CountDownLatch(3);
        AtomicReference<List<Claim>> got = new AtomicReference<>(List.of());
        String id = created(api.submit(job(null)));
        worker.addListener(new JobListener() {
            @Override
            public void jobsAvailable() {
                woken.countDown();
            }
        });
        assertThat(woken.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).as("woken by polling").isTrue();
        assertThat(worker.listening()).isFalse();
        got.set(worker.claim(1, LEASE));
        assertThat(got.get()).extracting(Claim::jobId).containsExactly(id);
    }

    private static int rank(JobState state) {
        return state == JobState.QUEUED ? 0 : state == JobState.RUNNING ? 1 : 2;
    }

    /**
     * Three processes: submits on one, the jobs run by another, status polled on all three. A status
     * read on any process after the submit returned finds the job, after the finish returned is
     * final, and never shows a state older than one a read of any process showed before it began.
     */
    @Test
    void status_reads_on_every_process_never_show_a_state_older_than_one_already_seen() throws Exception {
        PostgresJobStore api = open();
        PostgresJobStore other = open();
        PostgresJobStore worker = open();
        List<PostgresJobStore> all = List.of(api, other, worker);
        int jobs = 300;
        List<String> ids = new java.util.concurrent.CopyOnWriteArrayList<>();
        Map<String, Integer> seen = new ConcurrentHashMap<>();
        ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
        AtomicBoolean submitted = new AtomicBoolean();
        AtomicBoolean done = new AtomicBoolean();
        java.util.function.BiConsumer<String, Integer> atLeast = (id, least) -> {
            PostgresJobStore store = all.get(ThreadLocalRandom.current().nextInt(all.size()));
            int before = Math.max(least, seen.getOrDefault(id, 0));
            JobView job = store.status("t1", id).orElse(null);
            if (job == null) {
                problems.add(id + " not found");
                return;
            }
            if (rank(job.state()) < before) {
                problems.add(id + " showed " + job.state() + " after rank " + before);
            }
            seen.merge(id, rank(job.state()), Math::max);
        };
        List<Thread> threads = new ArrayList<>();
        Thread submitter = Thread.ofPlatform().start(() -> {
            for (int i = 0; i < jobs; i++) {
                String id = ((SubmitOutcome.Created) api.submit(job(null))).job().id();
                ids.add(id);
                atLeast.accept(id, 0);
                atLeast.accept(id, 0);
            }
            submitted.set(true);
        });
        List<Thread> workers = new ArrayList<>();
        for (int w = 0; w < 2; w++) {
            workers.add(Thread.ofPlatform().start(() -> {
                while (true) {
                    boolean last = submitted.get();
                    List<Claim> claims = worker.claim(4, LEASE);
                    if (claims.isEmpty() && last) {
                        return;
                    }
                    for (Claim claim : claims) {
                        atLeast.accept(claim.jobId(), 1);
                        if (worker.finish(claim, success(), LogEntry.info(clock.instant(), "done"))) {
                            atLeast.accept(claim.jobId(), 2);
                        }
                    }
                }
            }));
        }
        for (int p = 0; p < 3; p++) {
            threads.add(Thread.ofPlatform().start(() -> {
                ThreadLocalRandom random = ThreadLocalRandom.current();
                while (!done.get()) {
                    if (ids.isEmpty()) {
                        Thread.onSpinWait();
                        continue;
                    }
                    String id = ids.get(random.nextInt(ids.size()));
                    atLeast.accept(id, 0);
                    if (all.get(random.nextInt(all.size())).status("t2", id).isPresent()) {
                        problems.add(id + " shown to another tenant");
                    }
                }
            }));
        }
        submitter.join(120_000);
        for (Thread w : workers) {
            w.join(120_000);
        }
        done.set(true);
        for (Thread t : threads) {
            t.join(60_000);
        }
        assertThat(problems).isEmpty();
        assertThat(ids).hasSize(jobs);
        for (String id : ids) {
            JobView truth = api.find("t1", id).orElseThrow();
            assertThat(truth.state()).isEqualTo(JobState.SUCCEEDED);
            for (PostgresJobStore store : all) {
                assertThat(store.status("t1", id)).hasValue(truth);
            }
        }
    }
}
