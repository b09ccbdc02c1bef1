package dev.porthole.sidecar;

import dev.porthole.protocol.ForwardRef;
import dev.porthole.protocol.Protocol;
import dev.porthole.protocol.RelayAddress;
import dev.porthole.protocol.pki.KeyMaterial;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * What an agent needs: where the relays are (it keeps a control connection to every replica they resolve to), which
 * forward it serves with which token, the CA that signs the relay's certificate and the clients' certificates, its own
 * agent certificate and key (presented to clients at the end-to-end TLS handshake), the target, and the deadline at
 * which it leaves.
 */
public record AgentConfig(List<RelayAddress> relays, ForwardRef forward, String token, X509Certificate ca,
                          KeyMaterial agentKey, String targetHost, int targetPort, Instant deadline, Duration keepAlive,
                          Duration backoffMin, Duration backoffMax, int streamWindow,
                          int maxSessions) {

    public AgentConfig {
        relays = List.copyOf(relays);
        if (relays.isEmpty()) {
            throw new IllegalArgumentException("no relay address");
        }
        Objects.requireNonNull(forward, "forward");
        Objects.requireNonNull(token, "token");
        Objects.requireNonNull(ca, "ca");
        Objects.requireNonNull(agentKey, "agentKey");
        Objects.requireNonNull(targetHost, "targetHost");
        Objects.requireNonNull(deadline, "deadline");
        if (maxSessions < 1) {
            throw new IllegalArgumentException("maxSessions must be at least 1, got " + maxSessions);
        }
    }

    /** Sessions one agent serves at once by default; more are refused, and the client is told why. */
    public static final int DEFAULT_MAX_SESSIONS = 128;

    /** A config with default keepalive (15 s), backoff (0.5 s to 30 s) and window. */
    public static AgentConfig of(String relayHost, int relayPort, ForwardRef forward, String token, X509Certificate ca,
                                 KeyMaterial agentKey, String targetHost, int targetPort, Instant deadline) {
        return of(List.of(new RelayAddress(relayHost, relayPort)), forward, token, ca, agentKey, targetHost, targetPort,
                deadline);
    }

    /** As the other, with several relay addresses (each resolved to every replica it names). */
    public static AgentConfig of(List<RelayAddress> relays, ForwardRef forward, String token, X509Certificate ca,
                                 KeyMaterial agentKey, String targetHost, int targetPort, Instant deadline) {
        return new AgentConfig(relays, forward, token, ca, agentKey, targetHost, targetPort, deadline,
                Duration.ofSeconds(15), Duration.ofMillis(500), Duration.ofSeconds(30), Protocol.DEFAULT_WINDOW,
                DEFAULT_MAX_SESSIONS);
    }

    public AgentConfig withBackoff(Duration min, Duration max) {
        return new AgentConfig(relays, forward, token, ca, agentKey, targetHost, targetPort, deadline, keepAlive,
                min, max, streamWindow, maxSessions);
    }

    public AgentConfig withKeepAlive(Duration interval) {
        return new AgentConfig(relays, forward, token, ca, agentKey, targetHost, targetPort, deadline, interval,
                backoffMin, backoffMax, streamWindow, maxSessions);
    }

    public AgentConfig withMaxSessions(int sessions) {
        return new AgentConfig(relays, forward, token, ca, agentKey, targetHost, targetPort, deadline,
                keepAlive, backoffMin, backoffMax, streamWindow, sessions);
    }
}
