package dev.porthole.relay;

import dev.porthole.protocol.EndReason;
import java.net.InetSocketAddress;

/** Hook for agent connections. Called in order on one relay thread, like {@link SessionListener}. */
public interface AgentListener {

    default void connected(String forward, InetSocketAddress remoteAddress) {
    }

    default void disconnected(String forward, InetSocketAddress remoteAddress, EndReason reason, String message) {
    }

    /** An agent presented a wrong token, or none. */
    default void rejected(String forward, InetSocketAddress remoteAddress, String reason) {
    }
}
