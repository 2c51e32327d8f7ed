package io.genqueue.fetch;

import java.util.List;

/**
 * URLs that must be refused without any connection, shared by the reference image fetcher's
 * refusal tests and the webhook URL checks: both follow one rule. {@code PORT} stands for a port
 * the test fills in.
 */
final class RefusedUrls {

    private RefusedUrls() {
    }

    /** Every kind of non-public address, written as a literal: refused as "a non-public address". */
    static List<String> nonPublicAddressLiterals() {
        return List.of(
                "http://127.0.0.1:PORT/x.png",
                "http://127.1.2.3:PORT/x.png",
                "http://[::1]:PORT/x.png",
                "http://[0:0:0:0:0:0:0:1]:PORT/x.png",
                "http://[::ffff:127.0.0.1]:PORT/x.png",
                "http://[::ffff:7f00:1]:PORT/x.png",
                "http://[::127.0.0.1]:PORT/x.png",
                "http://[64:ff9b::7f00:1]:PORT/x.png",
                "http://[2002:7f00:1::1]:PORT/x.png",
                "http://0.0.0.0:PORT/x.png",
                "http://[::]:PORT/x.png",
                "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
                "http://[::ffff:169.254.169.254]/latest/meta-data/",
                "http://[fe80::1]/x.png",
                "http://10.0.0.1/x.png",
                "http://172.16.5.4/x.png",
                "http://192.168.0.1/x.png",
                "http://100.64.0.1/x.png",
                "http://224.0.0.1/x.png",
                "http://255.255.255.255/x.png",
                "http://240.1.2.3/x.png",
                "http://192.0.2.10/x.png",
                "http://198.18.0.1/x.png",
                "http://[fd00::1]/x.png",
                "http://[ff02::1]/x.png",
                "http://[2001:db8::1]/x.png",
                "https://127.0.0.1:PORT/x.png",
                "https://[::1]/x.png");
    }

    /** IPv4 addresses in forms that parsers read differently: refused before any lookup. */
    static List<String> ambiguousAddressForms() {
        return List.of(
                "http://2130706433:PORT/x.png",  // 127.0.0.1 as one decimal number
                "http://0x7f000001:PORT/x.png",  // ... as hex
                "http://0x7f.0.0.1:PORT/x.png",
                "http://0177.0.0.1:PORT/x.png",  // octal, or decimal 177.0.0.1, depending on the parser
                "http://017700000001:PORT/x.png",
                "http://127.0.0.1.:PORT/x.png",  // trailing dot
                "http://127.1:PORT/x.png",       // shortened
                "http://127.1/x.png");
    }

    /** "URL|problem": URLs that are not plain http or https, and the end of the message refusing them. */
    static List<String> notPlainHttp() {
        return List.of(
                "ftp://example.com/cat.png| must use http or https, not ftp",
                "file:///etc/passwd| must use http or https, not file",
                "gopher://example.com:70/_GET| must use http or https, not gopher",
                "jar:http://example.com/a.jar!/cat.png| must use http or https, not jar",
                "mailto:someone@example.com| must use http or https, not mailto",
                "javascript:alert(1)| must use http or https, not javascript",
                "example.com/cat.png| has no scheme: use an http or https URL",
                "//example.com/cat.png| has no scheme: use an http or https URL",
                "/cat.png| has no scheme: use an http or https URL",
                "http:cat.png| has no host",
                "http:///cat.png| has no host",
                "http://user:secret@example.com/cat.png| must not contain a user name or password",
                "http://user@example.com/cat.png| must not contain a user name or password",
                "http://user:secret@127.0.0.1:PORT/cat.png| must not contain a user name or password",
                "http://example.com@127.0.0.1:PORT/cat.png| must not contain a user name or password",
                "http://example.com:0/cat.png| has an invalid port",
                "http://example.com:70000/cat.png| has an invalid port",
                "http://exa mple.com/cat.png| is not a valid URL",
                "http://[fe80::1%25eth0]/cat.png| must not name an IPv6 zone",
                "http://under_score.example.com/cat.png| has no valid host name");
    }
}
