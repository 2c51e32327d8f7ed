package io.genqueue.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.genqueue.blob.BlobStore;
import io.genqueue.blob.FsBlobStore;
import io.genqueue.catalog.Catalog;
import io.genqueue.fetch.FetchPolicy;
import io.genqueue.fetch.ReferenceImageFetcher;
import io.genqueue.generation.GenerationInput;
import io.genqueue.metrics.Metrics;
import io.genqueue.provider.Backoff;
import io.genqueue.provider.preview.PreviewProvider;
import io.genqueue.provider.router.ProviderRouter;
import io.genqueue.queue.Claim;
import io.genqueue.queue.JobStore;
import io.genqueue.queue.LogCapture;
import io.genqueue.queue.NewJob;
import io.genqueue.queue.RequestIds;
import io.genqueue.queue.StoredImage;
import io.genqueue.queue.SubmitOutcome;
import io.genqueue.store.postgres.PostgresConfig;
import io.genqueue.store.postgres.PostgresJobStore;
import io.genqueue.store.postgres.TestSchemas;
import io.genqueue.testing.Eventually;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run that lost its job, seen from the runner: two stores on one PostgreSQL schema stand for two
 * processes sharing one image store. Process A's run is still in its provider call (the preview
 * provider with a latency) when process B's reaper requeues the job and B runs it to the end, as
 * when A was paused past its lease. A then finishes late: its finish is refused, it logs that its
 * outcome is discarded (job, attempt, its lease owner) and deletes the images it stored, and the
 * job keeps B's result and only B's images. ({@code PauseIT} does this with real processes and
 * {@code kill -STOP}; there the resumed process mostly learns it lost from its lease renewal.)
 */
class FencedRunTest {

    private static final TestSchemas schemas = new TestSchemas();
    private static final Duration LEASE = Duration.ofSeconds(30);
    private final Clock clock = Clock.systemUTC();

    @AfterAll
    static void dropSchemas() {
        schemas.close();
    }

    @Test
    void a_late_run_whose_finish_is_refused_discards_its_outcome_and_deletes_only_its_own_images(@TempDir Path dir)
            throws Exception {
        String url = schemas.newSchemaUrl();
        BlobStore blobs = new FsBlobStore(dir);
        try (PostgresJobStore a = PostgresJobStore.open(PostgresConfig.of(url).withPoolSize(2), clock);
                PostgresJobStore b = PostgresJobStore.open(PostgresConfig.of(url).withPoolSize(2), clock);
                LogCapture log = new LogCapture(JobRunner.class.getName())) {
            String id = submit(a, 2);
            Claim late = a.claim(1, LEASE).get(0);
            Thread runA = Thread.ofVirtual().start(() -> runner(a, blobs, Duration.ofSeconds(6)).run(late));
            Eventually.until(Duration.ofSeconds(10), "A's run started",
                    () -> a.logs(id).stream().anyMatch(line -> line.message().equals("Attempt 1 started.")));

            assertThat(b.reapExpiredLeases(3, Instant.now().plus(Duration.ofHours(1)))).as("B's reaper requeues it")
                    .containsExactly(id);
            Claim winner = b.claim(1, LEASE).get(0);
            assertThat(winner.attempt()).isEqualTo(2);
            runner(b, blobs, Duration.ZERO).run(winner);
            List<String> served = servedKeys(b, id);
            assertThat(served).containsExactlyInAnyOrder(BlobStore.imageKey(id, 2, 0, "png"), BlobStore.imageKey(id, 2, 1, "png"));

            runA.join(Duration.ofSeconds(60));
            assertThat(runA.isAlive()).as("A's run ended").isFalse();
            assertThat(log.output()).contains("job " + id + " attempt 1 (owner " + a.leaseOwner() + "): fenced out, another "
                    + "run holds the job (its finish was refused); its outcome is discarded and the 2 image(s) it stored are "
                    + "deleted");
            assertThat(servedKeys(a, id)).as("the recorded result, unchanged").isEqualTo(served);
            assertThat(Set.copyOf(blobs.keys(id))).as("only the winner's images are stored").isEqualTo(Set.copyOf(served));
            assertThat(a.logs(id).stream().filter(line -> line.message().startsWith("Generated")).count())
                    .as("one outcome").isEqualTo(1);
        }
    }

    @Test
    void the_run_that_records_an_outcome_deletes_what_a_run_killed_before_its_finish_left(@TempDir Path dir) {
        String url = schemas.newSchemaUrl();
        BlobStore blobs = new FsBlobStore(dir);
        try (PostgresJobStore a = PostgresJobStore.open(PostgresConfig.of(url).withPoolSize(2), clock);
                PostgresJobStore b = PostgresJobStore.open(PostgresConfig.of(url).withPoolSize(2), clock)) {
            String id = submit(a, 1);
            a.claim(1, LEASE); // A stored an image, then was killed before its finish:
            blobs.put(BlobStore.imageKey(id, 1, 0, "png"), new byte[] {1, 2, 3}, "image/png");

            assertThat(b.reapExpiredLeases(3, Instant.now().plus(Duration.ofHours(1)))).containsExactly(id);
            runner(b, blobs, Duration.ZERO).run(b.claim(1, LEASE).get(0));

            assertThat(blobs.keys(id)).containsExactly(BlobStore.imageKey(id, 2, 0, "png"));
            assertThat(servedKeys(b, id)).containsExactly(BlobStore.imageKey(id, 2, 0, "png"));
        }
    }

    private String submit(JobStore store, int images) {
        GenerationInput input = GenerationInput.builder("a fenced prompt").numImages(images).build();
        SubmitOutcome outcome = store.submit(NewJob.builder(RequestIds.next(clock), "t1", "nano_banana", input, clock.instant())
                .build());
        return ((SubmitOutcome.Created) outcome).job().id();
    }

    private JobRunner runner(JobStore store, BlobStore blobs, Duration latency) {
        ProviderRouter preview = new ProviderRouter(List.of(new PreviewProvider(latency)), new ProviderRouter.Limits(4, 0,
                new Backoff(Duration.ofMillis(10), Duration.ofMillis(10)), Duration.ofSeconds(1),
                new ProviderRouter.Breaker(20, 5, 0.5, Duration.ZERO)), clock, Metrics.none().providers());
        ModelWork model = new ModelWork(Catalog.builtInOnly().find("nano_banana").orElseThrow(), preview);
        return new JobRunner(store, blobs, Map.of("nano_banana", model),
                new ReferenceImageFetcher(new FetchPolicy(Duration.ofSeconds(5), 1 << 20, 1, 1_000_000, Set.of())),
                new RunningJobs(clock), clock, new JobRunner.Limits(3, new Backoff(Duration.ofMillis(10), Duration.ofMillis(10))),
                Metrics.none().jobs());
    }

    private static List<String> servedKeys(JobStore store, String id) {
        return store.result(id).orElseThrow().images().stream().map(StoredImage::blobKey).toList();
    }
}
