package io.genqueue.client;

/** The queue priority of a request ({@code X-Fal-Queue-Priority}). */
public enum Priority {
    NORMAL, LOW
}
