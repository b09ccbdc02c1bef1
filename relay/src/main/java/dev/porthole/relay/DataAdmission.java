package dev.porthole.relay;

import dev.porthole.protocol.DataPreamble;
import dev.porthole.protocol.ProtocolException;
import dev.porthole.protocol.TunnelPipeline;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.net.InetSocketAddress;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A data connection until it joined its session: reads the {@link DataPreamble}, finds the granted session its ticket
 * names, checks that this side may join it ({@link ClientSession#refusal}), and splices it to the other side once both
 * are here. A malformed preamble, an unknown or spent ticket, or a side from the wrong place closes the connection,
 * counted in {@code dataConnectionsRefused}; nothing is said on it, since whoever sent it proved nothing yet.
 */
final class DataAdmission extends ByteToMessageDecoder {

    private static final Logger LOG = LoggerFactory.getLogger(DataAdmission.class);

    private final RelayContext relay;
    private final boolean agentListener;
    private final boolean external;
    private boolean done;

    DataAdmission(RelayContext relay, boolean agentListener, boolean external) {
        this.relay = relay;
        this.agentListener = agentListener;
        this.external = external;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (done) {
            in.skipBytes(in.readableBytes());
            return;
        }
        DataPreamble preamble;
        try {
            preamble = DataPreamble.read(in);
        } catch (ProtocolException e) {
            refuse(ctx, null, e.getMessage());
            in.skipBytes(in.readableBytes());
            return;
        }
        if (preamble == null) {
            return;
        }
        done = true;
        InetSocketAddress remote = ProxyProtocol.clientOf(ctx.channel());
        ClientSession session = relay.tickets.get(preamble.ticket());
        ClientSession.Joined joined = session == null ? new ClientSession.Joined("unknown or spent session ticket", null)
                : session.join(preamble.side(), ctx.channel(), remote, external, agentListener);
        if (joined.refusal() != null) {
            refuse(ctx, session, joined.refusal());
            in.skipBytes(in.readableBytes());
            return;
        }
        Admission.admitted(relay, ctx.channel());
        RelaySplice splice = new RelaySplice(session.counterFor(preamble.side()));
        ctx.pipeline().addLast(TunnelPipeline.APPLICATION, splice);
        Channel other = joined.other();
        // what follows the preamble in this read reaches the splice as this handler leaves
        ctx.pipeline().remove(this);
        if (other != null) {
            relay.tickets.remove(preamble.ticket(), session);
            pair(ctx.channel(), splice, other, session);
        }
    }

    /** Both sides are here: one event loop for both (no task per read between threads), then the bytes flow. */
    private void pair(Channel channel, RelaySplice splice, Channel other, ClientSession session) {
        channel.eventLoop().execute(() -> TunnelPipeline.moveToEventLoop(channel, other.eventLoop(), relay.keepAlive)
                .addListener(moved -> {
                    if (!moved.isSuccess()) {
                        session.terminate(dev.porthole.protocol.EndReason.CANCELLED, "relay could not pair the session");
                        return;
                    }
                    RelaySplice otherSplice = other.pipeline().get(RelaySplice.class);
                    if (otherSplice == null) {
                        channel.close();
                        return;
                    }
                    splice.pair(other);
                    otherSplice.pair(channel);
                    LOG.atDebug().addKeyValue("forward", session.forward()).addKeyValue("session", session.id())
                            .log("session data connections paired");
                }));
    }

    private void refuse(ChannelHandlerContext ctx, ClientSession session, String reason) {
        relay.dataConnectionsRefused.incrementAndGet();
        LOG.atInfo().addKeyValue("listener", agentListener ? "agent" : external ? "external client" : "client")
                .addKeyValue("peer", ProxyProtocol.clientOf(ctx.channel()))
                .addKeyValue("session", session == null ? null : session.id()).addKeyValue("reason", reason)
                .log("data connection refused");
        ctx.close();
    }
}
