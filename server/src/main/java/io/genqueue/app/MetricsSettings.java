package io.genqueue.app;

import io.genqueue.http.MetricsAccess;

/**
 * How {@code GET /metrics} is served.
 *
 * @param port its own port, or null to serve it on the API's port
 * @param tenantLabel whether the request counters carry the tenant
 */
record MetricsSettings(MetricsAccess access, Integer port, boolean tenantLabel) {

    boolean ownPort() {
        return port != null;
    }
}
