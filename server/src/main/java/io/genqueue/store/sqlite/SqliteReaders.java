package io.genqueue.store.sqlite;

import io.genqueue.queue.StoreException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A small fixed pool of read-only connections. WAL mode lets them read while the writer commits;
 * each read sees the last committed state. A caller holds a connection only for one short read.
 */
final class SqliteReaders implements AutoCloseable {

    /** A read; runs with a connection the caller holds alone until it returns. */
    @FunctionalInterface
    interface Read<T> {
        T run(Reader reader) throws SQLException;
    }

    /** A pooled connection with its prepared statements. */
    static final class Reader extends StatementCache {
        private Reader(Connection connection) {
            super(connection);
        }
    }

    private static final long BORROW_TIMEOUT_SECONDS = 30;

    private final BlockingQueue<Reader> idle;
    private final List<Reader> all = new ArrayList<>();

    SqliteReaders(SqliteDatabase db, int size) {
        idle = new ArrayBlockingQueue<>(size);
        try {
            for (int i = 0; i < size; i++) {
                Reader r = new Reader(db.openReader());
                all.add(r);
                idle.add(r);
            }
        } catch (SQLException e) {
            close();
            throw new StoreException("cannot open " + db.file() + " for reading: " + e.getMessage(), e);
        }
    }

    <T> T read(Read<T> read) {
        Reader reader;
        try {
            reader = idle.poll(BORROW_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreException("interrupted while waiting for a database connection");
        }
        if (reader == null) {
            throw new StoreException("no database connection became free within " + BORROW_TIMEOUT_SECONDS + " s");
        }
        try {
            return read.run(reader);
        } catch (SQLException e) {
            throw new StoreException("database read failed: " + e.getMessage(), e);
        } finally {
            idle.add(reader);
        }
    }

    @Override
    public void close() {
        all.forEach(Reader::close);
    }
}
