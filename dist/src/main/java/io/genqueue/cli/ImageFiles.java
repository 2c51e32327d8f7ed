package io.genqueue.cli;

import io.genqueue.client.GenQueueClient;
import io.genqueue.client.Image;
import io.genqueue.client.Result;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where a result's images go: into a directory as {@code REQUEST_ID[-N].EXT}, or, when
 * {@code --out} names a file, to that file ({@code NAME-N.EXT} for each of several images).
 */
final class ImageFiles {

    private ImageFiles() {
    }

    /** Downloads and writes each image; returns the paths written, in order. */
    static List<Path> write(GenQueueClient client, Result result, Path out) {
        boolean intoDirectory = Files.isDirectory(out) || out.toString().endsWith("/");
        List<Path> written = new ArrayList<>();
        List<Image> images = result.images();
        for (int i = 0; i < images.size(); i++) {
            Image image = images.get(i);
            String suffix = images.size() == 1 ? "" : "-" + (i + 1);
            Path target = intoDirectory
                    ? out.resolve(result.requestId() + suffix + "." + extension(image))
                    : numbered(out, suffix);
            try {
                if (target.toAbsolutePath().getParent() != null) {
                    Files.createDirectories(target.toAbsolutePath().getParent());
                }
                Files.write(target, client.download(image));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e);
            }
            written.add(target);
        }
        return written;
    }

    private static Path numbered(Path file, String suffix) {
        if (suffix.isEmpty()) {
            return file;
        }
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String numbered = dot > 0 ? name.substring(0, dot) + suffix + name.substring(dot) : name + suffix;
        return file.resolveSibling(numbered);
    }

    private static String extension(Image image) {
        String type = image.contentType() == null ? "" : image.contentType();
        return switch (type) {
            case "image/jpeg" -> "jpg";
            case "image/webp" -> "webp";
            case "image/gif" -> "gif";
            default -> "png";
        };
    }
}
