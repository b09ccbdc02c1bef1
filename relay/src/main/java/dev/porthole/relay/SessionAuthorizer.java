package dev.porthole.relay;

import dev.porthole.protocol.ForwardRef;
import dev.porthole.protocol.pki.ClientIdentity;
import java.net.InetSocketAddress;

/**
 * Decides whether a client (whose certificate already passed chain, forward and validity checks) may open
 * a session, or a probe, on a forward. Called off the event loop for every session; may block briefly.
 */
@FunctionalInterface
public interface SessionAuthorizer {

    Decision authorize(ClientIdentity identity, ForwardRef forward, InetSocketAddress clientAddress);
}
