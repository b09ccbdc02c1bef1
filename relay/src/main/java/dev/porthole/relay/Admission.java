package dev.porthole.relay;

import dev.porthole.protocol.Frame;
import dev.porthole.protocol.ProtocolException;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Common part of the two listeners' first handler: waits (bounded) for exactly one HELLO, counts TLS
 * failures and protocol errors, runs hooks off the event loop, and refuses with a readable WELCOME.
 */
abstract class Admission extends ChannelInboundHandlerAdapter {

    private static final Logger LOG = LoggerFactory.getLogger(Admission.class);

    private static final io.netty.util.AttributeKey<ScheduledFuture<?>> DEADLINE =
            io.netty.util.AttributeKey.valueOf("porthole.handshake.deadline");

    protected final RelayContext relay;
    private final String listener;
    private boolean helloSeen;
    private io.netty.channel.Channel channel;

    Admission(RelayContext relay, String listener) {
        this.relay = relay;
        this.listener = listener;
    }

    /** Handles the one HELLO (of this protocol version); must end in admission (handler replaced) or refusal. */
    protected abstract void onHello(ChannelHandlerContext ctx, Frame.Hello hello);

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        if (channel.isActive()) { // added by the listener's sniffer, after the connection became active
            startDeadline(relay, listener, channel);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        startDeadline(relay, listener, ctx.channel());
        ctx.fireChannelActive();
    }

    /**
     * Gives a new connection {@code handshakeTimeout} to be admitted, whatever it turns out to be (control or data
     * connection): at the deadline it is closed and counted. Once per connection; {@link #admitted(RelayContext,
     * io.netty.channel.Channel)} stops it, and so does the connection closing before (a sniffer or a data admission
     * that closes a connection has no admission handler whose channelInactive would).
     */
    static void startDeadline(RelayContext relay, String listener, io.netty.channel.Channel channel) {
        if (channel.hasAttr(DEADLINE)) {
            return;
        }
        ScheduledFuture<?> deadline = channel.eventLoop().schedule(() -> {
            if (!channel.isOpen()) {
                return;
            }
            relay.handshakeTimeouts.incrementAndGet();
            LOG.atInfo().addKeyValue("listener", listener).addKeyValue("peer", channel.remoteAddress())
                    .log("no handshake in time; closing connection");
            channel.close();
        }, relay.handshakeTimeout.toMillis(), TimeUnit.MILLISECONDS);
        channel.attr(DEADLINE).set(deadline);
        channel.closeFuture().addListener(f -> deadline.cancel(false));
    }

    /** The connection is through admission: stops its deadline and gives its place in the {@link HandshakeBudget} back. */
    static void admitted(RelayContext relay, io.netty.channel.Channel channel) {
        ScheduledFuture<?> deadline = channel.attr(DEADLINE).get();
        if (deadline != null) {
            deadline.cancel(false);
        }
        HandshakeBudget.admitted(channel);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent tls && !tls.isSuccess()) {
            relay.tlsFailures.incrementAndGet();
            LOG.atInfo().addKeyValue("listener", listener).addKeyValue("peer", ctx.channel().remoteAddress())
                    .addKeyValue("error", String.valueOf(tls.cause().getMessage())).log("TLS handshake failed");
            ctx.close();
        } else if (!(evt instanceof IdleStateEvent)) {
            ctx.fireUserEventTriggered(evt);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (helloSeen || !(msg instanceof Frame.Hello hello)) {
            ReferenceCountUtil.release(msg);
            throw new ProtocolException("expected one HELLO, got " + msg);
        }
        helloSeen = true;
        if (hello.version() != dev.porthole.protocol.Protocol.VERSION) {
            relay.protocolErrors.incrementAndGet();
            refuse(ctx, Frame.Welcome.refuse(dev.porthole.protocol.EndReason.PROTOCOL_ERROR,
                    "unsupported protocol version " + hello.version() + "; this relay speaks "
                            + dev.porthole.protocol.Protocol.VERSION));
            return;
        }
        onHello(ctx, hello);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof ProtocolException || cause.getCause() instanceof ProtocolException
                || cause instanceof io.netty.handler.codec.haproxy.HAProxyProtocolException) {
            relay.protocolErrors.incrementAndGet();
            LOG.atWarn().addKeyValue("listener", listener).addKeyValue("peer", ctx.channel().remoteAddress())
                    .addKeyValue("error", cause.getMessage()).log("protocol error during handshake; closing connection");
        } else {
            LOG.atDebug().addKeyValue("listener", listener).addKeyValue("peer", ctx.channel().remoteAddress())
                    .addKeyValue("error", String.valueOf(cause)).log("connection failed during handshake");
        }
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        admitted();
        ctx.fireChannelInactive();
    }

    /** Stops the handshake timer and gives the connection's place in the {@link HandshakeBudget} back. */
    protected void admitted() {
        if (channel != null) {
            admitted(relay, channel);
        }
    }

    /** Sends a refusal the peer can show its user, then closes. */
    protected void refuse(ChannelHandlerContext ctx, Frame.Welcome refusal) {
        admitted();
        ctx.writeAndFlush(refusal).addListener(ChannelFutureListener.CLOSE);
    }

    /** Runs a hook on the hook executor and continues with its result on this connection's event loop. */
    protected <T> void callHook(ChannelHandlerContext ctx, Supplier<T> hook, java.util.function.BiConsumer<T, Throwable> then) {
        relay.callHook(ctx.executor(), hook, then);
    }

    /** The client's address: a PROXY protocol header's on the external listener when the balancer sends one. */
    protected static InetSocketAddress remote(ChannelHandlerContext ctx) {
        return ProxyProtocol.clientOf(ctx.channel());
    }
}
