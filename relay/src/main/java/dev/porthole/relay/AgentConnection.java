package dev.porthole.relay;

import dev.porthole.protocol.ForwardRef;
import dev.porthole.protocol.EndReason;
import dev.porthole.protocol.Multiplexer;
import java.net.InetSocketAddress;

/** An authenticated agent: the forward it serves and the multiplexed connection its streams run on. */
final class AgentConnection {

    private final ForwardRef forward;
    private final InetSocketAddress remoteAddress;
    private volatile Multiplexer mux;

    AgentConnection(ForwardRef forward, InetSocketAddress remoteAddress) {
        this.forward = forward;
        this.remoteAddress = remoteAddress;
    }

    void attach(Multiplexer mux) {
        this.mux = mux;
    }

    ForwardRef forward() {
        return forward;
    }

    InetSocketAddress remoteAddress() {
        return remoteAddress;
    }

    Multiplexer mux() {
        return mux;
    }

    boolean isOpen() {
        return mux.channel().isActive();
    }

    void close(EndReason reason, String message) {
        mux.close(reason, message);
    }
}
