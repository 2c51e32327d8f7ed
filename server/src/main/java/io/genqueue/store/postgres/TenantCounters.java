package io.genqueue.store.postgres;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Makes sure a tenant has its {@code tenant_live} row (its queued and running jobs, kept by
 * triggers) before a submit checks a {@code max_queued} against it. The row is made once per
 * tenant, ever, by counting under a {@code SHARE} lock on {@code jobs}: the lock waits for every
 * job write in flight to commit and holds new ones off until the count is in, so no job is missed
 * or counted twice. Rows are never removed, so once seen a tenant is remembered.
 */
final class TenantCounters {

    private final Jdbc jdbc;
    private final Set<String> known = ConcurrentHashMap.newKeySet();

    TenantCounters(Jdbc jdbc) {
        this.jdbc = jdbc;
    }

    /** Called by the submitting request's thread, before its job joins a group. */
    void ensure(String tenant) {
        if (known.contains(tenant)) {
            return;
        }
        boolean exists = jdbc.autocommit(c -> {
            try (PreparedStatement ps = Jdbc.prepare(c, "SELECT 1 FROM tenant_live WHERE tenant = ?", tenant);
                    ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        });
        if (!exists) {
            jdbc.transaction(c -> {
                Jdbc.update(c, "LOCK TABLE jobs IN SHARE MODE");
                return Jdbc.update(c, "INSERT INTO tenant_live (tenant, live) SELECT ?, "
                        + "(SELECT count(*) FROM jobs WHERE state = 'QUEUED' AND tenant = ?) "
                        + "+ (SELECT count(*) FROM jobs WHERE state = 'RUNNING' AND tenant = ?) ON CONFLICT (tenant) DO NOTHING",
                        tenant, tenant, tenant);
            });
        }
        known.add(tenant);
    }
}
