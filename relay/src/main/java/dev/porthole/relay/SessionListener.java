package dev.porthole.relay;

import dev.porthole.protocol.ForwardRef;
import dev.porthole.protocol.EndReason;
import dev.porthole.protocol.pki.ClientIdentity;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;

/**
 * Audit hook for client sessions. Called in order on one relay thread (never an event loop); keep it
 * quick, it delays the calls after it.
 */
public interface SessionListener {

    /** A session was authorised and spliced to a stream of the forward's agent. */
    default void opened(Opened session) {
    }

    /** A session ended. */
    default void closed(Closed session) {
    }

    /**
     * A session or probe was refused; {@code identity} is null when the certificate carried none, the
     * reason is what the client was told.
     */
    default void denied(Denied denial) {
    }

    record Opened(String sessionId, ClientIdentity identity, InetSocketAddress clientAddress, ForwardRef forward,
                  Instant openedAt) {
    }

    record Closed(String sessionId, ClientIdentity identity, InetSocketAddress clientAddress, ForwardRef forward,
                  long bytesFromClient, long bytesToClient, Duration duration, EndReason reason, String message) {
    }

    record Denied(ClientIdentity identity, InetSocketAddress clientAddress, ForwardRef forward, EndReason reason,
                  String message) {
    }
}
