package io.genqueue.process;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.List;
import java.util.stream.Stream;

/**
 * Reads what the SQLite database of a killed server held at the instant of the kill, from a copy
 * of its files: the original is left untouched for the next start to recover.
 */
final class DatabaseCopy {

    private DatabaseCopy() {
    }

    interface Reader<T> {
        T read(Connection db) throws SQLException;
    }

    static <T> T read(Path dataDir, Reader<T> reader) throws IOException, SQLException {
        Path copy = Files.createTempDirectory(dataDir.getParent(), dataDir.getFileName() + "-snapshot-");
        try {
            for (String name : List.of("genqueue.db", "genqueue.db-wal")) {
                if (Files.exists(dataDir.resolve(name))) {
                    Files.copy(dataDir.resolve(name), copy.resolve(name));
                }
            }
            try (Connection db = DriverManager.getConnection("jdbc:sqlite:" + copy.resolve("genqueue.db"))) {
                return reader.read(db);
            }
        } finally {
            try (Stream<Path> files = Files.list(copy)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
            Files.delete(copy);
        }
    }
}
