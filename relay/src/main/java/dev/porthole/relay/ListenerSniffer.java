package dev.porthole.relay;

import dev.porthole.protocol.DataPreamble;
import dev.porthole.protocol.TunnelPipeline;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.ssl.SslContext;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * First handler of every connection a relay listener accepts (after a PROXY protocol header, where one is expected):
 * tells a control connection, which starts with a TLS record (0x16), from a data connection, which starts with the
 * {@link DataPreamble} magic, and puts the matching pipeline in its own place. The bytes it looked at go on to it.
 * Anything else is a protocol error, and the connection is closed. The handshake deadline starts here.
 */
final class ListenerSniffer extends ByteToMessageDecoder {

    private static final Logger LOG = LoggerFactory.getLogger(ListenerSniffer.class);
    private static final int TLS_HANDSHAKE_RECORD = 0x16;

    private final RelayContext relay;
    private final String listener;
    private final SslContext tls;
    private final Supplier<ChannelHandler> controlAdmission;
    private final Supplier<ChannelHandler> dataAdmission;

    ListenerSniffer(RelayContext relay, String listener, SslContext tls, Supplier<ChannelHandler> controlAdmission,
                    Supplier<ChannelHandler> dataAdmission) {
        this.relay = relay;
        this.listener = listener;
        this.tls = tls;
        this.controlAdmission = controlAdmission;
        this.dataAdmission = dataAdmission;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (ctx.channel().isActive()) {
            Admission.startDeadline(relay, listener, ctx.channel());
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        Admission.startDeadline(relay, listener, ctx.channel());
        super.channelActive(ctx);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (!in.isReadable()) {
            return;
        }
        int first = in.getUnsignedByte(in.readerIndex());
        if (first == TLS_HANDSHAKE_RECORD) {
            TunnelPipeline.server(ctx.channel(), tls, relay.keepAlive);
            ctx.pipeline().addLast(TunnelPipeline.APPLICATION, controlAdmission.get());
        } else if (first == DataPreamble.FIRST_BYTE) {
            ctx.pipeline().addLast("dataAdmission", dataAdmission.get());
        } else {
            relay.protocolErrors.incrementAndGet();
            LOG.atInfo().addKeyValue("listener", listener).addKeyValue("peer", ctx.channel().remoteAddress())
                    .addKeyValue("firstByte", "0x" + Integer.toHexString(first))
                    .log("neither TLS nor a Porthole data connection; closing connection");
            in.skipBytes(in.readableBytes());
            ctx.close();
            return;
        }
        ctx.pipeline().remove(this);
    }

    /** Before the sniffer decided, a failure is the PROXY protocol header's (a protocol error) or the connection's. */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof io.netty.handler.codec.haproxy.HAProxyProtocolException
                || cause.getCause() instanceof io.netty.handler.codec.haproxy.HAProxyProtocolException) {
            relay.protocolErrors.incrementAndGet();
            LOG.atWarn().addKeyValue("listener", listener).addKeyValue("peer", ctx.channel().remoteAddress())
                    .addKeyValue("error", cause.getMessage()).log("bad PROXY protocol header; closing connection");
        } else {
            LOG.atDebug().addKeyValue("listener", listener).addKeyValue("peer", ctx.channel().remoteAddress())
                    .addKeyValue("error", String.valueOf(cause)).log("connection failed before its first byte was read");
        }
        ctx.close();
    }
}
