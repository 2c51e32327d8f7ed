package io.genqueue.app;

import io.genqueue.store.postgres.TestSchemas;
import java.util.Map;

/** {@link UsageApiContract} on PostgreSQL, in a schema of its own. */
class PostgresUsageApiTest extends UsageApiContract {

    private final TestSchemas schemas = new TestSchemas();
    private final String url = schemas.newSchemaUrl();

    @Override
    Map<String, String> storeSettings() {
        return Map.of("GENQUEUE_STORE", url);
    }

    @Override
    void closeStore() {
        schemas.close();
    }
}
