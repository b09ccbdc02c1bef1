package dev.porthole.cli;

import dev.porthole.protocol.ForwardRef;
import dev.porthole.protocol.Protocol;
import dev.porthole.protocol.RelayAddress;
import java.net.InetAddress;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * What {@link Forwarder} needs: the forward, the local address and port to listen on (port 0 picks one),
 * the relays' client listener (usually one address, a Service or load balancer in front of every replica; several are
 * tried in turn when one goes away), the CA that signs the relay's certificate, and the client certificate source.
 */
public record ForwarderConfig(ForwardRef forward, InetAddress localAddress, int localPort, List<RelayAddress> relays,
                              X509Certificate relayCa, CertificateSource certificates,
                              Duration keepAlive, int streamWindow) {

    public ForwarderConfig {
        Objects.requireNonNull(forward, "forward");
        Objects.requireNonNull(localAddress, "localAddress");
        relays = List.copyOf(relays);
        if (relays.isEmpty()) {
            throw new IllegalArgumentException("no relay address");
        }
        Objects.requireNonNull(relayCa, "relayCa");
        Objects.requireNonNull(certificates, "certificates");
    }

    public static ForwarderConfig of(ForwardRef forward, InetAddress localAddress, int localPort, String relayHost,
                                     int relayPort, X509Certificate relayCa, CertificateSource certificates) {
        return of(forward, localAddress, localPort, List.of(new RelayAddress(relayHost, relayPort)), relayCa, certificates);
    }

    public static ForwarderConfig of(ForwardRef forward, InetAddress localAddress, int localPort,
                                     List<RelayAddress> relays, X509Certificate relayCa, CertificateSource certificates) {
        return new ForwarderConfig(forward, localAddress, localPort, relays, relayCa, certificates,
                Duration.ofSeconds(15), Protocol.DEFAULT_WINDOW);
    }
}
