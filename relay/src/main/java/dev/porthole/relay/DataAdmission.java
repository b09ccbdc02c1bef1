package dev.porthole.relay;

import dev.porthole.protocol.DataPreamble;
import dev.porthole.protocol.DataRefusal;
import dev.porthole.protocol.EndReason;
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
 * A data connection until it joined its session: reads the {@link DataPreamble}. A client's presents a
 * {@link SessionPass} sealed by a replica (this or another), from which this replica opens the session
 * ({@link SessionOpening}); what the client sent after the preamble waits meanwhile. An agent's presents the ticket this
 * replica sent it for a session opened here, and is spliced to the client's. A malformed preamble, a pass that does not
 * open, an unknown or spent ticket, or a side from the wrong place closes the connection, counted in
 * {@code dataConnectionsRefused}; nothing is said on it, since whoever sent it proved nothing yet. A client whose valid
 * pass cannot open a session hears why ({@link DataRefusal}).
 */
final class DataAdmission extends ByteToMessageDecoder {

    private static final Logger LOG = LoggerFactory.getLogger(DataAdmission.class);

    private final RelayContext relay;
    private final boolean agentListener;
    private final boolean external;
    private boolean read;

    DataAdmission(RelayContext relay, boolean agentListener, boolean external) {
        this.relay = relay;
        this.agentListener = agentListener;
        this.external = external;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (read) {
            return; // the session is being opened: what follows the preamble waits here
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
        read = true;
        if (preamble.side() == DataPreamble.Side.AGENT) {
            agentSide(ctx, in, preamble);
        } else {
            clientSide(ctx, in, preamble);
        }
    }

    private void clientSide(ChannelHandlerContext ctx, ByteBuf in, DataPreamble preamble) {
        if (agentListener) {
            refuse(ctx, null, "clients dial the client listener");
            in.skipBytes(in.readableBytes());
            return;
        }
        SessionPass pass;
        try {
            pass = relay.passes.open(preamble.credential());
        } catch (PassSeal.PassException e) {
            refuse(ctx, null, e.getMessage());
            in.skipBytes(in.readableBytes());
            return;
        }
        Channel channel = ctx.channel();
        channel.config().setAutoRead(false);
        SessionOpening.open(relay, channel, pass, ProxyProtocol.clientOf(channel), external, new SessionOpening.Outcome() {
            @Override
            public void opened(ClientSession session) {
                Admission.admitted(relay, channel);
                ctx.pipeline().addLast(TunnelPipeline.APPLICATION, new RelaySplice(session.counterFor(DataPreamble.Side.CLIENT)));
                // what the client sent after its preamble reaches the splice as this handler leaves
                ctx.pipeline().remove(DataAdmission.this);
            }

            @Override
            public void refused(EndReason reason, String message) {
                relay.dataConnectionsRefused.incrementAndGet();
                LOG.atInfo().addKeyValue("listener", external ? "external client" : "client")
                        .addKeyValue("peer", ProxyProtocol.clientOf(channel)).addKeyValue("session", pass.sessionId())
                        .addKeyValue("reason", message).log("session refused on its data connection");
                new DataRefusal(reason, message).sendAndClose(channel);
            }
        });
    }

    private void agentSide(ChannelHandlerContext ctx, ByteBuf in, DataPreamble preamble) {
        InetSocketAddress remote = ProxyProtocol.clientOf(ctx.channel());
        ClientSession session = relay.tickets.get(preamble.ticket());
        ClientSession.Joined joined = session == null ? new ClientSession.Joined("unknown or spent session ticket", null)
                : session.join(DataPreamble.Side.AGENT, ctx.channel(), remote, external, agentListener);
        if (joined.refusal() != null) {
            refuse(ctx, session, joined.refusal());
            in.skipBytes(in.readableBytes());
            return;
        }
        Admission.admitted(relay, ctx.channel());
        RelaySplice splice = new RelaySplice(session.counterFor(DataPreamble.Side.AGENT));
        ctx.pipeline().addLast(TunnelPipeline.APPLICATION, splice);
        Channel other = joined.other();
        // what follows the preamble in this read reaches the splice as this handler leaves
        ctx.pipeline().remove(this);
        relay.tickets.remove(preamble.ticket(), session);
        if (other != null) {
            pair(ctx.channel(), splice, other, session);
        }
    }

    /** Both sides are here: one event loop for both (no task per read between threads), then the bytes flow. */
    private void pair(Channel channel, RelaySplice splice, Channel other, ClientSession session) {
        channel.eventLoop().execute(() -> TunnelPipeline.moveToEventLoop(channel, other.eventLoop(), relay.keepAlive)
                .addListener(moved -> {
                    if (!moved.isSuccess()) {
                        session.terminate(EndReason.CANCELLED, "relay could not pair the session");
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
