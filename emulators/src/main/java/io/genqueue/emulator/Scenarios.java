package io.genqueue.emulator;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How a test (or a person) picks what an emulator plays: the {@value #HEADER} request header, or a
 * token {@code [emulate:NAME]} anywhere in the prompt. The header wins. No choice means the normal
 * successful answer, {@value #OK}.
 */
public final class Scenarios {

    public static final String HEADER = "X-Emulator-Scenario";
    public static final String OK = "ok";
    private static final Pattern TOKEN = Pattern.compile("\\[emulate:([a-z0-9_-]+)]", Pattern.CASE_INSENSITIVE);

    private Scenarios() {
    }

    /** The scenario named by the header value or the prompt, lower-cased; {@value #OK} when neither names one. */
    public static String pick(String headerValue, String prompt) {
        if (headerValue != null && !headerValue.isBlank()) {
            return headerValue.trim().toLowerCase(Locale.ROOT);
        }
        if (prompt != null) {
            Matcher m = TOKEN.matcher(prompt);
            if (m.find()) {
                return m.group(1).toLowerCase(Locale.ROOT);
            }
        }
        return OK;
    }
}
