package dev.porthole.relay;

/**
 * What the relay's external client listener knows of a client's address, which {@code sourceRanges} and the audit
 * depend on. Behind a load balancer that keeps source addresses (a Kubernetes LoadBalancer Service with
 * {@code externalTrafficPolicy: Local}) it is the connection's own; behind one that sends the PROXY protocol it is the
 * header's; behind an Ingress passing TLS through it is the Ingress controller's, so unknown.
 */
public enum ClientAddresses {
    /** The connection's source address is the client's. */
    PRESERVED,
    /** Every connection starts with a PROXY protocol header (v1 or v2) naming the client; one without it is closed. */
    PROXY_PROTOCOL,
    /** The source address is a proxy's: forwards limited by {@code sourceRanges} (bind scope Public) are refused. */
    UNKNOWN;

    /** Reads {@code Preserved}, {@code ProxyProtocol} or {@code Unknown}. */
    public static ClientAddresses parse(String text) {
        return switch (text) {
            case "Preserved" -> PRESERVED;
            case "ProxyProtocol" -> PROXY_PROTOCOL;
            case "Unknown" -> UNKNOWN;
            default -> throw new IllegalArgumentException("client addresses must be Preserved, ProxyProtocol or Unknown, got '"
                    + text + "'");
        };
    }
}
