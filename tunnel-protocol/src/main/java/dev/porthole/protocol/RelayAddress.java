package dev.porthole.protocol;

import java.util.ArrayList;
import java.util.List;

/**
 * One way to reach relays: a host (a name, which may resolve to every replica, as a headless Service's does, or an
 * address) and a port. Written {@code host:port}; several are separated by commas.
 */
public record RelayAddress(String host, int port) {

    public RelayAddress {
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("a relay address needs a host");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("relay port " + port + " is not between 1 and 65535");
        }
    }

    /** Parses {@code host:port[,host:port...]} (an IPv6 host in brackets). */
    public static List<RelayAddress> parseList(String text) {
        List<RelayAddress> addresses = new ArrayList<>();
        for (String part : text.split(",")) {
            String entry = part.strip();
            if (!entry.isEmpty()) {
                addresses.add(parse(entry));
            }
        }
        if (addresses.isEmpty()) {
            throw new IllegalArgumentException("no relay address in '" + text + "'");
        }
        return List.copyOf(addresses);
    }

    public static RelayAddress parse(String entry) {
        int colon = entry.lastIndexOf(':');
        if (colon <= 0 || colon == entry.length() - 1) {
            throw new IllegalArgumentException("relay address '" + entry + "' is not host:port");
        }
        String host = entry.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        try {
            return new RelayAddress(host, Integer.parseInt(entry.substring(colon + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("relay address '" + entry + "' has no numeric port");
        }
    }

    @Override
    public String toString() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
