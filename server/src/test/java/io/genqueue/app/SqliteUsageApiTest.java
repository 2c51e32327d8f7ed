package io.genqueue.app;

import java.util.Map;

/** {@link UsageApiContract} on one process with SQLite. */
class SqliteUsageApiTest extends UsageApiContract {

    @Override
    Map<String, String> storeSettings() {
        return Map.of();
    }
}
