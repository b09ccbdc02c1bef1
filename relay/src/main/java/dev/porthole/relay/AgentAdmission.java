package dev.porthole.relay;

import dev.porthole.protocol.ForwardRef;
import dev.porthole.protocol.BindScope;
import dev.porthole.protocol.EndReason;
import dev.porthole.protocol.Frame;
import dev.porthole.protocol.MuxHandler;
import dev.porthole.protocol.Multiplexer;
import dev.porthole.protocol.Role;
import dev.porthole.protocol.TunnelPipeline;
import dev.porthole.protocol.pki.ClientIdentity;
import io.netty.channel.ChannelHandlerContext;
import java.net.InetSocketAddress;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** First handler on the agent listener: checks the agent's forward and token, then registers it. */
final class AgentAdmission extends Admission {

    private static final Logger LOG = LoggerFactory.getLogger(AgentAdmission.class);

    AgentAdmission(RelayContext relay) {
        super(relay, "agent");
    }

    @Override
    protected void onHello(ChannelHandlerContext ctx, Frame.Hello hello) {
        if (hello.role() != Role.AGENT) {
            relay.agentsRejected.incrementAndGet();
            refuse(ctx, Frame.Welcome.refuse(EndReason.DENIED, "this is the agent listener; clients use the client listener"));
            return;
        }
        ForwardRef forward;
        try {
            forward = ForwardRef.parse(hello.forward());
        } catch (IllegalArgumentException e) {
            reject(ctx, null, e.getMessage());
            return;
        }
        callHook(ctx, () -> !hello.token().isEmpty() && relay.authenticator.authenticate(forward, hello.token()),
                (ok, error) -> {
                    if (!ctx.channel().isActive()) {
                        return;
                    }
                    if (error != null) {
                        LOG.atError().setCause(error).addKeyValue("forward", forward).log("agent authenticator failed");
                        reject(ctx, forward, "agent authentication failed on the relay");
                    } else if (!ok) {
                        reject(ctx, forward, hello.token().isEmpty() ? "agent presented no token for forward " + forward
                                : "agent token rejected for forward " + forward);
                    } else {
                        admit(ctx, forward, hello.window());
                    }
                });
    }

    private void reject(ChannelHandlerContext ctx, ForwardRef forward, String reason) {
        relay.agentsRejected.incrementAndGet();
        InetSocketAddress remote = remote(ctx);
        LOG.atWarn().addKeyValue("forward", forward).addKeyValue("peer", remote).addKeyValue("reason", reason)
                .log("agent rejected");
        relay.notify(() -> relay.agentListener.rejected(forward, remote, reason));
        refuse(ctx, Frame.Welcome.refuse(EndReason.DENIED, reason));
    }

    private void admit(ChannelHandlerContext ctx, ForwardRef forward, int peerWindow) {
        admitted();
        InetSocketAddress remote = remote(ctx);
        AgentConnection agent = new AgentConnection(forward, remote);
        Multiplexer mux = new Multiplexer(ctx.channel(),
                relay.muxSettings("agent forward=" + forward + " peer=" + remote, EndReason.AGENT_LOST,
                        relay.maxStreamsPerAgent),
                peerWindow, null, (reason, message) -> disconnected(agent, reason, message), agent::onControl);
        agent.attach(mux);
        ctx.pipeline().replace(this, TunnelPipeline.APPLICATION, new MuxHandler(mux));
        ctx.writeAndFlush(Frame.Welcome.accept(BindScope.LOOPBACK, Instant.EPOCH, relay.nextId("agent"),
                relay.streamWindow));
        AgentConnection previous = relay.registry.registerAgent(agent);
        if (previous != null) {
            previous.close(EndReason.AGENT_LOST, "replaced by a newer connection of the same agent");
        }
        LOG.atInfo().addKeyValue("forward", forward).addKeyValue("peer", remote).log("agent connected");
        relay.notify(() -> relay.agentListener.connected(forward, remote));
    }

    private void disconnected(AgentConnection agent, EndReason reason, String message) {
        relay.registry.unregisterAgent(agent);
        // sessions already spliced run on their own data connections and go on; one still waiting for the agent's
        // data connection would wait in vain
        for (ClientSession session : agent.dialledSessions()) {
            if (!session.paired()) {
                session.terminate(EndReason.AGENT_LOST, "agent connection lost before the session was set up");
            }
        }
        if (reason == EndReason.PROTOCOL_ERROR) {
            relay.protocolErrors.incrementAndGet();
        }
        LOG.atInfo().addKeyValue("forward", agent.forward()).addKeyValue("peer", agent.remoteAddress())
                .addKeyValue("reason", reason).addKeyValue("message", message).log("agent disconnected");
        relay.notify(() -> relay.agentListener.disconnected(agent.forward(), agent.remoteAddress(), reason, message));
    }
}
