package io.genqueue.usage;

import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;

/**
 * The UTC days a usage question covers, both ends included. The one parser of {@code from} and
 * {@code to} for the API and the command line: when {@code to} is omitted it is today (UTC); when
 * {@code from} is omitted it is the first day of {@code to}'s month (month to date). At most
 * {@link #MAX_DAYS} days.
 */
public record UsageRange(LocalDate from, LocalDate to) {

    public static final int MAX_DAYS = 366;

    public UsageRange {
        if (from.isAfter(to)) {
            throw new IllegalArgumentException("from is after to");
        }
    }

    /** Days in the range. */
    public long days() {
        return ChronoUnit.DAYS.between(from, to) + 1;
    }

    /**
     * Reads {@code from} and {@code to} (each {@code YYYY-MM-DD}, or null when omitted).
     *
     * @throws Invalid naming the parameter at fault
     */
    public static UsageRange parse(String from, String to, LocalDate today) {
        LocalDate end = to == null ? today : date("to", to);
        LocalDate start = from == null ? end.withDayOfMonth(1) : date("from", from);
        if (start.isAfter(end)) {
            throw new Invalid("from", "from (" + start + ") is after to (" + end + ").", "value_error");
        }
        long days = ChronoUnit.DAYS.between(start, end) + 1;
        if (days > MAX_DAYS) {
            throw new Invalid("from", "The range covers " + days + " days; at most " + MAX_DAYS + " are answered at once.",
                    "value_error");
        }
        return new UsageRange(start, end);
    }

    private static LocalDate date(String parameter, String value) {
        try {
            if (value.length() != 10) { // ISO_LOCAL_DATE also reads +/- years of more digits
                throw new DateTimeParseException("length", value, 0);
            }
            return LocalDate.parse(value);
        } catch (DateTimeParseException e) {
            throw new Invalid(parameter, parameter + " must be a date as YYYY-MM-DD (UTC), such as 2026-01-31.", "date_parsing");
        }
    }

    /** A {@code from} or {@code to} that cannot be answered; the message says why (without echoing the value). */
    public static final class Invalid extends IllegalArgumentException {
        private final String parameter;
        private final String type;

        Invalid(String parameter, String message, String type) {
            super(message);
            this.parameter = parameter;
            this.type = type;
        }

        /** {@code from} or {@code to}. */
        public String parameter() {
            return parameter;
        }

        /** A machine-readable reason, as the contract's 422 details carry: {@code date_parsing}, {@code value_error}. */
        public String type() {
            return type;
        }
    }
}
