package io.genqueue.app;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.encoder.EncoderBase;
import com.fasterxml.jackson.core.JsonGenerator;
import io.genqueue.json.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Map;
import java.util.Set;
import org.slf4j.event.KeyValuePair;

/**
 * One JSON object per log line ({@code GENQUEUE_LOG_FORMAT=json}), for log shippers:
 * {@code timestamp} (ISO-8601, UTC), {@code level}, {@code logger}, {@code thread}, {@code message}
 * (formatted), then each MDC entry and each key-value pair of the event as a key of its own (numbers
 * stay numbers), and {@code stack_trace} when there is a throwable.
 *
 * <p>Why not logback's own {@code JsonEncoder}: it nests the fields ({@code "mdc": {...}},
 * {@code "kvpList": [{...}]}), which shippers and queries ({@code .route}, {@code .request_id})
 * cannot use as they are. logstash-logback-encoder has this shape but is one more dependency (and
 * not among those resolved here) for what is these few lines over the Jackson we already ship.
 */
final class JsonLinesEncoder extends EncoderBase<ILoggingEvent> {

    /** The keys every line has; a field of the same name is written as {@code field_<name>} instead. */
    static final Set<String> RESERVED = Set.of("timestamp", "level", "logger", "thread", "message", "stack_trace");

    private static final byte[] NONE = new byte[0];

    @Override
    public byte[] headerBytes() {
        return NONE;
    }

    @Override
    public byte[] footerBytes() {
        return NONE;
    }

    @Override
    public byte[] encode(ILoggingEvent event) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        try (JsonGenerator json = Json.mapper().getFactory().createGenerator(out)) {
            json.writeStartObject();
            json.writeStringField("timestamp", event.getInstant().toString());
            json.writeStringField("level", event.getLevel().toString());
            json.writeStringField("logger", event.getLoggerName());
            json.writeStringField("thread", event.getThreadName());
            json.writeStringField("message", event.getFormattedMessage());
            Map<String, String> mdc = event.getMDCPropertyMap();
            if (mdc != null) {
                for (Map.Entry<String, String> e : mdc.entrySet()) {
                    field(json, e.getKey(), e.getValue());
                }
            }
            if (event.getKeyValuePairs() != null) {
                for (KeyValuePair pair : event.getKeyValuePairs()) {
                    field(json, pair.key, pair.value);
                }
            }
            IThrowableProxy thrown = event.getThrowableProxy();
            if (thrown != null) {
                json.writeStringField("stack_trace", ThrowableProxyUtil.asString(thrown));
            }
            json.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // writing to memory: does not happen
        }
        out.write('\n');
        return out.toByteArray();
    }

    private static void field(JsonGenerator json, String key, Object value) throws IOException {
        json.writeFieldName(RESERVED.contains(key) ? "field_" + key : key);
        switch (value) {
            case null -> json.writeNull();
            case Integer i -> json.writeNumber(i);
            case Long l -> json.writeNumber(l);
            case Double d -> json.writeNumber(d);
            case BigDecimal d -> json.writeNumber(d);
            case BigInteger i -> json.writeNumber(i);
            case Boolean b -> json.writeBoolean(b);
            default -> json.writeString(value.toString());
        }
    }
}
