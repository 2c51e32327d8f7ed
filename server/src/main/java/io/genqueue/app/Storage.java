package io.genqueue.app;

import io.genqueue.blob.s3.S3Settings;
import java.time.Duration;

/**
 * Where the state lives: the job store (SQLite in the data directory, or PostgreSQL) and the image
 * store (files in the data directory, or an S3 bucket).
 *
 * @param store empty for SQLite, else a PostgreSQL URL (it may hold a password: never printed)
 * @param poll PostgreSQL: the polling interval behind LISTEN/NOTIFY
 * @param pollOnly PostgreSQL: no LISTEN/NOTIFY
 * @param s3 the bucket, or null for files
 */
record Storage(String store, Duration poll, boolean pollOnly, S3Settings s3) {

    boolean postgres() {
        return !store.isEmpty();
    }

    @Override
    public String toString() {
        return "Storage[" + (postgres() ? "postgresql" : "sqlite") + ", " + (s3 == null ? "files" : s3.location()) + "]";
    }
}
