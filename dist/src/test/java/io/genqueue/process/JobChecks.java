package io.genqueue.process;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * The checks of a finished job and of a database that the crash tests share (CrashIT,
 * KillLoopIT): its images as served and as stored, its log, the usage counts against the jobs,
 * SQLite's integrity check.
 */
final class JobChecks {

    private JobChecks() {
    }

    /** One image of a result: its blob key (from the signed URL) and size. */
    record ImageRef(String key, long size) {
    }

    /**
     * Where the usage counts (written by triggers with each job change) disagree with the jobs
     * rows: requests submitted, each final state, and the images of the succeeded ones.
     */
    static List<String> usageDisagreements(Connection db) throws SQLException {
        List<String> out = new ArrayList<>();
        String[][] checks = {
            {"submitted", "SELECT count(*) FROM jobs", "SELECT COALESCE(sum(requests), 0) FROM usage_counts WHERE outcome = 'SUBMITTED'"},
            {"succeeded", "SELECT count(*) FROM jobs WHERE state = 'SUCCEEDED'",
                "SELECT COALESCE(sum(requests), 0) FROM usage_counts WHERE outcome = 'SUCCEEDED'"},
            {"failed", "SELECT count(*) FROM jobs WHERE state = 'FAILED'",
                "SELECT COALESCE(sum(requests), 0) FROM usage_counts WHERE outcome = 'FAILED'"},
            {"cancelled", "SELECT count(*) FROM jobs WHERE state = 'CANCELLED'",
                "SELECT COALESCE(sum(requests), 0) FROM usage_counts WHERE outcome = 'CANCELLED'"},
            {"images", "SELECT COALESCE(sum(json_array_length(result, '$.images')), 0) FROM jobs WHERE state = 'SUCCEEDED'",
                "SELECT COALESCE(sum(images), 0) FROM usage_counts WHERE outcome = 'SUCCEEDED'"}};
        try (Statement s = db.createStatement()) {
            for (String[] check : checks) {
                long jobs = single(s, check[1]);
                long counted = single(s, check[2]);
                if (jobs != counted) {
                    out.add(check[0] + ": " + jobs + " by the jobs, " + counted + " counted");
                }
            }
        }
        return out;
    }

    private static long single(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /**
     * Downloads one image and checks it against what the response says of it (and against
     * {@code format}, the requested output format, unless null); null when it is fine.
     */
    static String checkImage(Api api, JsonNode image, String format, boolean decodeFully, AtomicInteger decoded)
            throws Exception {
        String url = image.path("url").asText();
        HttpResponse<byte[]> file = api.download(url);
        if (file.statusCode() != 200) {
            return url + " answered " + file.statusCode();
        }
        byte[] bytes = file.body();
        if (bytes.length != image.path("file_size").asLong()) {
            return url + ": " + bytes.length + " bytes, response says " + image.path("file_size");
        }
        String contentType = image.path("content_type").asText();
        if (format != null && !contentType.equals(format.equals("jpeg") ? "image/jpeg" : "image/png")) {
            return url + ": content type " + contentType + " for format " + format;
        }
        boolean complete = contentType.equals("image/png") ? endsWith(bytes, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82)
                : endsWith(bytes, 0xFF, 0xD9);
        if (!complete) {
            return url + ": the file does not end as a whole " + contentType + " does";
        }
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                return url + ": not an image ImageIO knows";
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in);
                int width = reader.getWidth(0);
                int height = reader.getHeight(0);
                if (width != image.path("width").asInt() || height != image.path("height").asInt()) {
                    return url + ": " + width + "x" + height + ", response says " + image.path("width") + "x" + image.path("height");
                }
                if (decodeFully) {
                    reader.read(0);
                    decoded.incrementAndGet();
                }
            } finally {
                reader.dispose();
            }
        } catch (IOException e) {
            return url + ": does not decode: " + e.getMessage();
        }
        return null;
    }

    private static boolean endsWith(byte[] bytes, int... tail) {
        if (bytes.length < tail.length) {
            return false;
        }
        for (int i = 0; i < tail.length; i++) {
            if ((bytes[bytes.length - tail.length + i] & 0xFF) != tail[i]) {
                return false;
            }
        }
        return true;
    }

    static List<ImageRef> imageRefs(JsonNode response) {
        List<ImageRef> refs = new ArrayList<>();
        for (JsonNode image : response.path("images")) {
            String path = URI.create(image.path("url").asText()).getPath();
            refs.add(new ImageRef(path.substring(path.indexOf("/files/") + "/files/".length()), image.path("file_size").asLong()));
        }
        return refs;
    }

    static int countLines(JsonNode status, String prefix) {
        int n = 0;
        for (JsonNode line : status.path("logs")) {
            if (line.path("message").asText().startsWith(prefix)) {
                n++;
            }
        }
        return n;
    }

    /**
     * Where the image directory of job {@code id} differs from exactly the images its response
     * serves ({@code served}, {@code expected} of them, each a {@code .ext} of the requested
     * {@code format} when it is known): each run stores under keys of its own (the attempt is in
     * them), and the run that recorded the outcome deletes what runs killed before it left, so
     * nothing else may be there, not even a temporary file; null when it holds exactly those.
     */
    static String imageDirectoryProblem(Path data, String id, List<ImageRef> served, int expected, String format)
            throws IOException {
        Path dir = data.resolve("images").resolve(id);
        List<String> files = new ArrayList<>();
        if (Files.isDirectory(dir)) {
            try (Stream<Path> list = Files.list(dir)) {
                list.map(p -> p.getFileName().toString()).sorted().forEach(files::add);
            }
        }
        String ext = format == null ? null : format.equals("jpeg") ? "jpg" : "png";
        List<String> wanted = served.stream().map(ref -> ref.key().substring(ref.key().indexOf('/') + 1)).sorted().toList();
        if (!files.equals(wanted) || wanted.size() != expected
                || (ext != null && !wanted.stream().allMatch(name -> name.endsWith("." + ext)))) {
            return "image directory holds " + files + ", expected the served " + wanted + " (" + expected + " ." + ext + ")";
        }
        return null;
    }

    /** SQLite's {@code PRAGMA integrity_check}: {@code ["ok"]} when the database is sound. */
    static List<String> integrityCheck(Connection db) throws SQLException {
        List<String> lines = new ArrayList<>();
        try (Statement s = db.createStatement(); ResultSet rs = s.executeQuery("PRAGMA integrity_check")) {
            while (rs.next()) {
                lines.add(rs.getString(1));
            }
        }
        return lines;
    }
}
