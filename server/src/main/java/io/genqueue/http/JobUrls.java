package io.genqueue.http;

/** The absolute URLs of one request. */
record JobUrls(String response, String status, String cancel) {

    static JobUrls of(String base, String model, String requestId) {
        String root = base + "/v1/queue/" + model + "/requests/" + requestId;
        return new JobUrls(root + "/response", root + "/status", root + "/cancel");
    }
}
