package io.genqueue.client;

/** The client against a server on PostgreSQL (a fresh schema per server). */
class GenQueueClientPostgresTest extends GenQueueClientContract {
    @Override
    LiveServer.Store store() {
        return LiveServer.Store.POSTGRESQL;
    }
}
