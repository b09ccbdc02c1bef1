package dev.porthole.relay;

import dev.porthole.protocol.ForwardRef;
import dev.porthole.protocol.EndReason;
import java.net.InetSocketAddress;

/** Hook for agent connections. Called in order on one relay thread, like {@link SessionListener}. */
public interface AgentListener {

    default void connected(ForwardRef forward, InetSocketAddress remoteAddress) {
    }

    default void disconnected(ForwardRef forward, InetSocketAddress remoteAddress, EndReason reason, String message) {
    }

    /** An agent presented a wrong token, or none. */
    default void rejected(ForwardRef forward, InetSocketAddress remoteAddress, String reason) {
    }
}
