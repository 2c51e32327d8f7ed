package io.genqueue.queue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.LoggerFactory;
import org.slf4j.event.KeyValuePair;

/**
 * What a test's code logged: a real logback appender on the named loggers (the root by default),
 * those loggers at info while it is attached. It keeps every event, and the bytes its encoder wrote:
 * a text pattern, unless the server under test gives the root's appenders its own encoder
 * ({@code GENQUEUE_LOG_FORMAT=json}), so {@link #output} is what the console would have shown.
 */
public final class LogCapture implements AutoCloseable {

    private final List<Logger> loggers;
    private final List<Level> levels;
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final List<ILoggingEvent> events = new CopyOnWriteArrayList<>();
    private final OutputStreamAppender<ILoggingEvent> appender = new OutputStreamAppender<>() {
        @Override
        protected void append(ILoggingEvent event) {
            events.add(event);
            super.append(event);
        }
    };

    /** Captures the root logger (everything), or the loggers named. */
    public LogCapture(String... loggerNames) {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        loggers = loggerNames.length == 0 ? List.of(context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
                : java.util.Arrays.stream(loggerNames).map(context::getLogger).toList();
        levels = loggers.stream().map(Logger::getLevel).toList();
        PatternLayoutEncoder text = new PatternLayoutEncoder();
        text.setContext(context);
        text.setPattern("%-5level %logger - %msg%n");
        text.start();
        appender.setContext(context);
        appender.setName("test-capture");
        appender.setEncoder(text);
        appender.setOutputStream(bytes);
        appender.start();
        for (Logger logger : loggers) {
            logger.setLevel(Level.INFO);
            logger.addAppender(appender);
        }
    }

    /** Everything written so far, as the appender's encoder wrote it. */
    public String output() {
        synchronized (bytes) {
            return bytes.toString(StandardCharsets.UTF_8);
        }
    }

    /** The output's lines. */
    public List<String> lines() {
        return output().lines().toList();
    }

    /** The events of {@code logger}, each as its key-value pairs. */
    public List<Map<String, Object>> fields(String logger) {
        return events.stream().filter(e -> e.getLoggerName().equals(logger)).map(LogCapture::fields).toList();
    }

    private static Map<String, Object> fields(ILoggingEvent event) {
        Map<String, Object> out = new LinkedHashMap<>();
        if (event.getKeyValuePairs() != null) {
            for (KeyValuePair pair : event.getKeyValuePairs()) {
                out.put(pair.key, pair.value);
            }
        }
        return out;
    }

    @Override
    public void close() {
        for (int i = 0; i < loggers.size(); i++) {
            loggers.get(i).detachAppender(appender);
            loggers.get(i).setLevel(levels.get(i));
        }
        appender.stop();
    }
}
