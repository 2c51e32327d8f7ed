package io.genqueue.client;

/** The client against a server on SQLite. */
class GenQueueClientSqliteTest extends GenQueueClientContract {
    @Override
    LiveServer.Store store() {
        return LiveServer.Store.SQLITE;
    }
}
