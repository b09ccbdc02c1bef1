package dev.porthole.protocol;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.CompletableFuture;

/**
 * Dialling side of the handshake: sends the HELLO once TLS is up and completes {@link #result()} with the
 * WELCOME (accepted or refused), or exceptionally when TLS fails or the connection closes first. The
 * future completes on the event loop, before any later frame is read, so a listener can install the
 * {@link MuxHandler} in this handler's place.
 */
public final class ClientHandshake extends ChannelInboundHandlerAdapter {

    private final Frame.Hello hello;
    private final CompletableFuture<Frame.Welcome> result = new CompletableFuture<>();

    public ClientHandshake(Frame.Hello hello) {
        this.hello = hello;
    }

    public CompletableFuture<Frame.Welcome> result() {
        return result;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent tls) {
            if (tls.isSuccess()) {
                ctx.writeAndFlush(hello);
            } else {
                fail(ctx, new HandshakeException("TLS handshake with the relay failed: " + rootMessage(tls.cause())));
            }
        } else if (evt instanceof IdleStateEvent) {
            fail(ctx, new HandshakeException("relay did not answer the handshake in time"));
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Frame.Welcome welcome) {
            ctx.pipeline().remove(this);
            result.complete(welcome);
            return;
        }
        ReferenceCountUtil.release(msg);
        fail(ctx, new HandshakeException("relay sent " + msg + " before WELCOME"));
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        fail(ctx, new HandshakeException("relay closed the connection during the handshake"));
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        fail(ctx, new HandshakeException("handshake with the relay failed: " + rootMessage(cause)));
    }

    private void fail(ChannelHandlerContext ctx, HandshakeException e) {
        if (result.completeExceptionally(e)) {
            ctx.close();
        }
    }

    static String rootMessage(Throwable cause) {
        Throwable root = cause;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    }

    /** The handshake did not produce a WELCOME. */
    public static final class HandshakeException extends RuntimeException {
        public HandshakeException(String message) {
            super(message);
        }
    }
}
