package io.genqueue.fetch;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Turns a host name into addresses. Production uses {@link InetAddress#getAllByName}; tests make
 * names resolve to whatever addresses they need to check. Only called for names: IP literals in a
 * URL are parsed without it.
 */
@FunctionalInterface
interface HostResolver {

    HostResolver SYSTEM = InetAddress::getAllByName;

    /** All addresses of {@code host}; may block. */
    InetAddress[] resolve(String host) throws UnknownHostException;
}
