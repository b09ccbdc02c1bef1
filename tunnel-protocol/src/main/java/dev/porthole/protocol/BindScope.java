package dev.porthole.protocol;

import java.net.InetAddress;

/** How widely a client may bind its local end of a forward. Mirrors {@code spec.bindScope}. */
public enum BindScope {
    /** Only loopback addresses (the default). */
    LOOPBACK(1),
    /** Any address; the forward is meant for cluster-internal clients. */
    CLUSTER(2),
    /** Any address; the forward is exposed behind source ranges. */
    PUBLIC(3);

    private final int code;

    BindScope(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** Whether a listener bound to {@code address} stays within this scope. */
    public boolean permits(InetAddress address) {
        return this != LOOPBACK || address.isLoopbackAddress();
    }

    public static BindScope fromCode(int code) {
        for (BindScope scope : values()) {
            if (scope.code == code) {
                return scope;
            }
        }
        throw new ProtocolException("unknown bind scope code " + code);
    }

    /** Parses the CRD spelling ({@code Loopback}, {@code Cluster}, {@code Public}), case-insensitively. */
    public static BindScope parse(String text) {
        return valueOf(text.trim().toUpperCase(java.util.Locale.ROOT));
    }
}
