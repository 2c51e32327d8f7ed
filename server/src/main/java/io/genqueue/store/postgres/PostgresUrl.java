package io.genqueue.store.postgres;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A database URL in either spelling, as pgjdbc wants it: {@code postgresql://user:pw@host:port/db?x=y}
 * (libpq's form, also {@code postgres://}) becomes {@code jdbc:postgresql://host:port/db?x=y} with
 * the user and password as properties. The password never appears in {@link #redacted}.
 */
record PostgresUrl(String jdbcUrl, String user, String password) {

    private static final Pattern LIBPQ = Pattern.compile("(?i)postgres(?:ql)?://(?:([^@/?]*)@)?([^/?]+)(/[^?]*)?(\\?.*)?");
    private static final Pattern PASSWORD_PARAM = Pattern.compile("(?i)([?&]password=)[^&]*");

    static PostgresUrl parse(String url) {
        String trimmed = url.trim();
        if (trimmed.regionMatches(true, 0, "jdbc:postgresql:", 0, "jdbc:postgresql:".length())) {
            return new PostgresUrl(trimmed, null, null);
        }
        Matcher m = LIBPQ.matcher(trimmed);
        if (!m.matches()) {
            throw new IllegalArgumentException("not a PostgreSQL URL (want postgresql://user@host:port/db or "
                    + "jdbc:postgresql://host:port/db): " + redact(trimmed));
        }
        String user = null;
        String password = null;
        if (m.group(1) != null && !m.group(1).isEmpty()) {
            String userInfo = m.group(1);
            int colon = userInfo.indexOf(':');
            user = decode(colon < 0 ? userInfo : userInfo.substring(0, colon));
            password = colon < 0 ? null : decode(userInfo.substring(colon + 1));
        }
        String path = m.group(3) == null || m.group(3).equals("/") ? "/postgres" : m.group(3);
        String query = m.group(4) == null ? "" : m.group(4);
        return new PostgresUrl("jdbc:postgresql://" + m.group(2) + path + query, user, password);
    }

    /** Connection properties: the user and password, if the URL named them outside its query. */
    Properties properties() {
        Properties props = new Properties();
        if (user != null) {
            props.setProperty("user", user);
        }
        if (password != null) {
            props.setProperty("password", password);
        }
        return props;
    }

    /** The JDBC URL without any password. */
    String redacted() {
        return redact(jdbcUrl);
    }

    private static String redact(String url) {
        String noUserInfoPassword = url.replaceAll("(//[^:/@?]*):[^@/?]*@", "$1:***@");
        return PASSWORD_PARAM.matcher(noUserInfoPassword).replaceAll("$1***");
    }

    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8); // percent-encoding only, as libpq
    }

    @Override
    public String toString() {
        return redacted();
    }
}
