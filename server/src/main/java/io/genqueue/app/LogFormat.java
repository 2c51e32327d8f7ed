package io.genqueue.app;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.Encoder;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * {@code GENQUEUE_LOG_FORMAT}: how log lines are written. {@code text} is the pattern of
 * {@code logback.xml}, untouched; {@code json} gives every output appender of the root logger a
 * {@link JsonLinesEncoder} from the start of the application (lines logged before, such as a bad
 * setting, stay text).
 */
enum LogFormat {
    TEXT,
    JSON;

    /**
     * Applies this format to the root logger's output appenders. The logging configuration belongs
     * to the JVM, not to one application (tests start many in one JVM), so closing the returned
     * handle puts back the encoders that were there.
     */
    AutoCloseable apply() {
        if (this == TEXT || !(LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME) instanceof Logger root)) {
            return () -> { };
        }
        record Swapped(OutputStreamAppender<ILoggingEvent> appender, Encoder<ILoggingEvent> previous) {
        }
        List<Swapped> swapped = new ArrayList<>();
        for (Iterator<Appender<ILoggingEvent>> it = root.iteratorForAppenders(); it.hasNext(); ) {
            if (it.next() instanceof OutputStreamAppender<ILoggingEvent> out && !(out.getEncoder() instanceof JsonLinesEncoder)) {
                JsonLinesEncoder json = new JsonLinesEncoder();
                json.setContext(root.getLoggerContext());
                json.start();
                swapped.add(new Swapped(out, out.getEncoder()));
                out.setEncoder(json);
            }
        }
        return () -> swapped.forEach(s -> s.appender().setEncoder(s.previous()));
    }
}
