package io.genqueue.blob;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The filesystem blob store: the contract, and how it lays blobs out on disk. */
class FsBlobStoreTest extends BlobStoreContract<FsBlobStore> {

    @TempDir
    Path dir;

    @Override
    protected FsBlobStore open() {
        return new FsBlobStore(dir.resolve("images"));
    }

    @Test
    void blobs_are_files_named_by_their_key_under_the_root() throws IOException {
        byte[] bytes = bytes(300, 1);
        store.put("job_files/2.webp", bytes, "image/webp");

        assertThat(Files.readAllBytes(dir.resolve("images/job_files/2.webp"))).isEqualTo(bytes);
        assertThat(files(dir.resolve("images"))).as("no temporary file left behind").containsExactly("job_files/2.webp");
    }

    @Test
    void the_root_is_created_with_its_parents() {
        FsBlobStore deep = new FsBlobStore(dir.resolve("a/b/images"));

        assertThat(dir.resolve("a/b/images")).isDirectory();
        assertThat(deep.ping()).isTrue();
    }

    @Test
    void deleting_a_job_removes_its_folder_and_a_temporary_file_left_by_a_crash() throws IOException {
        store.put("job_crashed/0.png", bytes(10, 2), "image/png");
        Files.write(dir.resolve("images/job_crashed/.1.png.tmp"), bytes(5, 3)); // a put cut short

        assertThat(store.open("job_crashed/.1.png.tmp")).as("a temporary file is no blob").isEmpty();
        store.deleteJob("job_crashed");

        assertThat(dir.resolve("images/job_crashed")).doesNotExist();
    }

    @Test
    void a_put_cut_short_by_an_interrupt_leaves_no_file_behind() throws IOException {
        String key = BlobStore.imageKey("job_cut", 1, 0, "png");
        Thread.currentThread().interrupt(); // a worker stopped (its lease lost) while it writes
        try {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> store.put(key, bytes(100_000, 4), "image/png"))
                    .isInstanceOf(BlobStoreException.class);
        } finally {
            Thread.interrupted();
        }

        assertThat(store.open(key)).isEmpty();
        assertThat(files(dir.resolve("images"))).as("neither the image nor its temporary file").isEmpty();
    }

    @Test
    void keys_leave_out_a_temporary_file_of_a_put_in_flight() throws IOException {
        store.put("job_busy/a1-0.png", bytes(10, 2), "image/png");
        Files.write(dir.resolve("images/job_busy/.a2-0.png.123.tmp"), bytes(5, 3));

        assertThat(store.keys("job_busy")).containsExactly("job_busy/a1-0.png");
    }

    @Test
    void ping_is_false_once_the_root_is_gone() throws IOException {
        Files.delete(dir.resolve("images"));

        assertThat(store.ping()).isFalse();
    }

    @Test
    void a_filesystem_store_offers_no_direct_links() {
        store.put("job_local/0.png", bytes(10, 4), "image/png");

        assertThat(store.directUrl("job_local/0.png", Duration.ofHours(1))).isEmpty();
    }

    /** Every file under {@code root}, as paths relative to it with forward slashes. */
    private static List<String> files(Path root) throws IOException {
        try (Stream<Path> all = Files.walk(root)) {
            return all.filter(Files::isRegularFile).map(p -> root.relativize(p).toString().replace('\\', '/')).sorted().toList();
        }
    }
}
