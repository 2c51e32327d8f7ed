package io.genqueue.blob;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link BlobStore} must do. A backend's test only says how to open a store on an empty
 * location of its own; every call opens another store on that same location, as another process
 * (or the same process after a restart) would.
 */
public abstract class BlobStoreContract<S extends BlobStore> {

    /** The store under test, opened before each test. */
    protected S store;
    private final List<S> opened = new ArrayList<>();

    /** Opens a store on this test's location: empty for the first call, shared by all later ones. */
    protected abstract S open();

    /** Another store on the same location, closed after the test. */
    protected final S reopen() {
        S another = open();
        opened.add(another);
        return another;
    }

    @BeforeEach
    void openStore() {
        store = reopen();
    }

    @AfterEach
    void closeStores() throws Exception {
        for (S s : opened) {
            if (s instanceof AutoCloseable closeable) {
                closeable.close();
            }
        }
    }

    // ---------------------------------------------------------------- put and open

    @Test
    void put_then_open_returns_the_bytes_and_size() throws IOException {
        byte[] bytes = bytes(5000, 1);
        store.put("job_roundtrip/0.png", bytes, "image/png");

        BlobStore.Blob blob = store.open("job_roundtrip/0.png").orElseThrow();
        try (InputStream in = blob.stream()) {
            assertThat(blob.size()).isEqualTo(5000);
            assertThat(in.readAllBytes()).isEqualTo(bytes);
        }
    }

    @Test
    void every_image_extension_and_index_is_a_key_of_its_own() {
        List<String> keys = List.of("job_kinds/0.png", "job_kinds/1.jpg", "job_kinds/2.webp", "job_kinds/10.png",
                "job_kinds/999.png");
        for (int i = 0; i < keys.size(); i++) {
            store.put(keys.get(i), bytes(100 + i, 20 + i), "application/octet-stream");
        }
        for (int i = 0; i < keys.size(); i++) {
            assertThat(read(store.open(keys.get(i)))).as(keys.get(i)).isEqualTo(bytes(100 + i, 20 + i));
        }
        assertThat(store.open("job_kinds/0.jpg")).as("the same index with another extension").isEmpty();
    }

    @Test
    void an_empty_blob_is_stored_and_read_back_empty() {
        store.put("job_empty/0.png", new byte[0], "image/png");

        assertThat(store.open("job_empty/0.png").orElseThrow().size()).isZero();
        assertThat(read(store.open("job_empty/0.png"))).isEmpty();
    }

    @Test
    void writing_the_same_key_again_replaces_the_blob() {
        store.put("job_overwrite/0.jpg", bytes(3000, 3), "image/jpeg");
        byte[] second = bytes(1200, 4);
        store.put("job_overwrite/0.jpg", second, "image/jpeg");

        assertThat(read(store.open("job_overwrite/0.jpg"))).isEqualTo(second);
        assertThat(store.open("job_overwrite/0.jpg").orElseThrow().size()).isEqualTo(1200);
    }

    @Test
    void a_put_is_stored_on_return_for_every_store_on_the_location() {
        byte[] bytes = bytes(2048, 5);
        store.put("job_shared/0.webp", bytes, "image/webp");

        assertThat(read(reopen().open("job_shared/0.webp"))).isEqualTo(bytes);
    }

    @Test
    void opening_a_missing_key_is_empty() {
        assertThat(store.open("job_never_written/0.png")).isEmpty();
        store.put("job_written/0.png", bytes(10, 6), "image/png");
        assertThat(store.open("job_written/1.png")).as("another index of a job with images").isEmpty();
    }

    @Test
    void opening_an_invalid_key_is_empty() {
        store.put("job_x/0.png", bytes(10, 7), "image/png");

        for (String key : List.of("../etc/0.png", "job_x/0.exe", "job_x/../job_x/0.png", "/job_x/0.png", "JOB_X/0.png",
                "job_x/1000.png", "job_x/0.png/", "job_x", "")) {
            assertThat(store.open(key)).as(key).isEmpty();
        }
    }

    @Test
    void put_refuses_a_key_outside_the_pattern() {
        for (String key : List.of("../../escape/0.png", "job_x/0.gif", "job_x/../../0.png", "job_x/a.png", "Job/0.png",
                "a/b/0.png", "job_x/0", "")) {
            assertThatThrownBy(() -> store.put(key, new byte[1], "image/png")).as(key)
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    // ---------------------------------------------------------------- delete

    @Test
    void delete_job_removes_every_key_of_the_job_and_only_those() {
        store.put("job_del/0.png", bytes(10, 5), "image/png");
        store.put("job_del/1.jpg", bytes(10, 6), "image/jpeg");
        store.put("job_del/2.webp", bytes(10, 7), "image/webp");
        store.put("job_de/0.png", bytes(10, 8), "image/png"); // a prefix of the job id
        store.put("job_dele/0.png", bytes(10, 9), "image/png"); // the job id is a prefix of it

        store.deleteJob("job_del");

        assertThat(store.open("job_del/0.png")).isEmpty();
        assertThat(store.open("job_del/1.jpg")).isEmpty();
        assertThat(store.open("job_del/2.webp")).isEmpty();
        assertThat(store.open("job_de/0.png")).isPresent();
        assertThat(store.open("job_dele/0.png")).isPresent();
        assertThat(reopen().open("job_del/0.png")).as("gone for every store on the location").isEmpty();
    }

    @Test
    void deleting_a_job_with_no_images_is_fine() {
        store.deleteJob("job_nothing_here");
        store.put("job_twice/0.png", bytes(10, 11), "image/png");
        store.deleteJob("job_twice");
        store.deleteJob("job_twice");
        assertThat(store.open("job_twice/0.png")).isEmpty();
    }

    @Test
    void a_deleted_job_can_store_images_again() {
        store.put("job_again/0.png", bytes(10, 12), "image/png");
        store.deleteJob("job_again");

        store.put("job_again/0.png", bytes(20, 13), "image/png");

        assertThat(read(store.open("job_again/0.png"))).isEqualTo(bytes(20, 13));
    }

    @Test
    void each_attempt_of_a_job_stores_its_images_under_keys_of_its_own() {
        String first = BlobStore.imageKey("job_runs", 1, 0, "png");
        String second = BlobStore.imageKey("job_runs", 2, 0, "png");
        store.put(first, bytes(10, 20), "image/png");
        store.put(second, bytes(10, 21), "image/png");

        assertThat(first).isNotEqualTo(second);
        assertThat(read(store.open(first))).isEqualTo(bytes(10, 20));
        assertThat(read(store.open(second))).isEqualTo(bytes(10, 21));
        assertThat(store.open(BlobStore.imageKey("job_runs", 100, 999, "webp"))).as("the largest attempt and index").isEmpty();
    }

    @Test
    void keys_lists_every_image_of_a_job_of_every_run_and_no_other_job() {
        store.put("job_list/0.png", bytes(10, 22), "image/png"); // stored before keys named the attempt
        store.put(BlobStore.imageKey("job_list", 2, 0, "png"), bytes(10, 23), "image/png");
        store.put(BlobStore.imageKey("job_list", 3, 1, "webp"), bytes(10, 24), "image/webp");
        store.put(BlobStore.imageKey("job_lis", 1, 0, "png"), bytes(10, 25), "image/png");
        store.put(BlobStore.imageKey("job_listed", 1, 0, "png"), bytes(10, 26), "image/png");

        assertThat(store.keys("job_list")).containsExactlyInAnyOrder("job_list/0.png", "job_list/a2-0.png",
                "job_list/a3-1.webp");
        assertThat(store.keys("job_never_stored")).isEmpty();
        assertThatThrownBy(() -> store.keys("../job_list")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void delete_removes_exactly_the_keys_given_and_missing_keys_are_fine() {
        String lost = BlobStore.imageKey("job_fenced", 1, 0, "jpg");
        String won = BlobStore.imageKey("job_fenced", 2, 0, "jpg");
        store.put(lost, bytes(10, 27), "image/jpeg");
        store.put(won, bytes(10, 28), "image/jpeg");

        store.delete(List.of(lost, BlobStore.imageKey("job_fenced", 1, 1, "jpg")));
        store.delete(List.of(lost));
        store.delete(List.of());

        assertThat(store.open(lost)).isEmpty();
        assertThat(read(store.open(won))).isEqualTo(bytes(10, 28));
        assertThat(reopen().keys("job_fenced")).containsExactly(won);
        assertThatThrownBy(() -> store.delete(List.of("../escape/0.png"))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void delete_job_refuses_a_non_job_id() {
        for (String id : List.of("", "a/b", "..", "../job_x", "JOB", "job_x/0.png")) {
            assertThatThrownBy(() -> store.deleteJob(id)).as(id).isInstanceOf(IllegalArgumentException.class);
        }
    }

    // ---------------------------------------------------------------- ping

    @Test
    void a_store_that_can_be_written_pings_true() {
        assertThat(store.ping()).isTrue();
    }

    // ---------------------------------------------------------------- concurrency

    @Test
    void puts_from_many_threads_to_different_keys_all_land() throws Exception {
        int jobs = 8;
        int images = 4;
        try (ExecutorService pool = Executors.newFixedThreadPool(jobs)) {
            List<Future<?>> puts = new ArrayList<>();
            for (int j = 0; j < jobs; j++) {
                for (int i = 0; i < images; i++) {
                    String key = "job_par_" + j + "/" + i + ".png";
                    long seed = 100L * j + i;
                    puts.add(pool.submit(() -> store.put(key, bytes(500 + (int) seed, seed), "image/png")));
                }
            }
            for (Future<?> put : puts) {
                put.get();
            }
        }
        for (int j = 0; j < jobs; j++) {
            for (int i = 0; i < images; i++) {
                long seed = 100L * j + i;
                assertThat(read(store.open("job_par_" + j + "/" + i + ".png"))).isEqualTo(bytes(500 + (int) seed, seed));
            }
        }
    }

    /** A job run again while its reaped run still writes: puts of one key at once all succeed, one version stays whole. */
    @Test
    void puts_of_one_key_at_once_all_succeed_and_leave_one_whole_version() throws Exception {
        String key = "job_twice/0.png";
        int writers = 8;
        List<byte[]> versions = new ArrayList<>();
        for (int v = 0; v < writers; v++) {
            versions.add(bytes(20_000 + v, v));
        }
        try (ExecutorService pool = Executors.newFixedThreadPool(writers)) {
            List<Future<?>> puts = new ArrayList<>();
            for (int round = 0; round < 25; round++) {
                for (byte[] version : versions) {
                    puts.add(pool.submit(() -> store.put(key, version, "image/png")));
                }
            }
            for (Future<?> put : puts) {
                put.get();
            }
        }
        assertThat(versions).anySatisfy(v -> assertThat(read(store.open(key))).isEqualTo(v));
    }

    /**
     * A job run again overwrites its images while clients may be reading them: a reader always
     * finds the blob, and reads one whole version of it, with that version's size.
     */
    @Test
    void a_reader_racing_rewrites_of_a_key_reads_one_whole_version() throws Exception {
        String key = "job_race/0.png";
        byte[] first = bytes(3000, 14);
        byte[] second = bytes(1200, 15);
        store.put(key, first, "image/png");
        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicInteger reads = new AtomicInteger();
        List<String> wrong = new CopyOnWriteArrayList<>();
        List<Thread> readers = new ArrayList<>();
        for (int r = 0; r < 2; r++) {
            readers.add(Thread.ofPlatform().name("blob-reader-" + r).start(() -> {
                while (writing.get()) { // reads until the writer is done, not a wait
                    try {
                        Optional<BlobStore.Blob> blob = store.open(key);
                        if (blob.isEmpty()) {
                            wrong.add("missing");
                            return;
                        }
                        long size = blob.get().size();
                        byte[] seen = read(blob);
                        if (!(Arrays.equals(seen, first) || Arrays.equals(seen, second)) || seen.length != size) {
                            wrong.add(seen.length + " byte(s) read, size said " + size);
                            return;
                        }
                        reads.incrementAndGet();
                    } catch (RuntimeException e) {
                        wrong.add(e.toString());
                        return;
                    }
                }
            }));
        }
        try {
            for (int n = 0; n < 40; n++) {
                store.put(key, n % 2 == 0 ? second : first, "image/png");
            }
        } finally {
            writing.set(false);
            for (Thread reader : readers) {
                reader.join();
            }
        }
        assertThat(wrong).as("a reader's first read that was not one whole version (%d good reads)", reads.get()).isEmpty();
        assertThat(reads).as("reads during the rewrites").hasPositiveValue();
    }

    // ---------------------------------------------------------------- helpers

    /** The whole content of an opened blob, the stream closed. */
    protected static byte[] read(Optional<BlobStore.Blob> blob) {
        try (InputStream in = blob.orElseThrow().stream()) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code n} random bytes, the same for the same seed. */
    protected static byte[] bytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }
}
