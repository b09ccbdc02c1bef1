package dev.porthole.relay;

import dev.porthole.protocol.ForwardRef;
import dev.porthole.protocol.EndReason;
import dev.porthole.protocol.pki.ClientIdentity;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;

/**
 * Audit hook for client sessions. {@link #closed} and {@link #denied} are called in order on one relay thread (never an
 * event loop); keep them quick, they delay the calls after them.
 */
public interface SessionListener {

    /**
     * A session was authorised and spliced to a stream of the forward's agent, and is about to be opened: called on a
     * hook thread before the client hears of it. If this throws, the session is refused (fail closed): a session whose
     * opening cannot be recorded does not happen.
     */
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
