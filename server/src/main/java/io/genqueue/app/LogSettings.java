package io.genqueue.app;

import ch.qos.logback.classic.Level;
import io.genqueue.http.HttpApi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GENQUEUE_LOG_LEVEL}, {@code GENQUEUE_LOG_FORMAT} and {@code GENQUEUE_ACCESS_LOG}.
 *
 * @param level the root logger's level
 * @param accessLines whether the access logger ({@value HttpApi#ACCESS_LOGGER}) is on (it follows the
 *     root's level) or off
 */
record LogSettings(String level, LogFormat format, boolean accessLines) {

    /**
     * Applies these settings to logback; the returned handle puts the previous format back (the
     * levels stay: the next application sets its own).
     */
    AutoCloseable apply() {
        if (LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME) instanceof ch.qos.logback.classic.Logger root) {
            root.setLevel(Level.toLevel(level, Level.INFO));
            ch.qos.logback.classic.Logger access = root.getLoggerContext().getLogger(HttpApi.ACCESS_LOGGER);
            if (!accessLines) {
                access.setLevel(Level.OFF);
            } else if (access.getLevel() == Level.OFF) { // turned off by an earlier application in this JVM
                access.setLevel(null);
            }
        }
        return format.apply();
    }
}
