package dev.porthole.protocol;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import java.security.cert.X509Certificate;
import java.util.concurrent.CompletableFuture;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * Either end of a data connection until its end-to-end TLS handshake is done: completes {@link #result()} with the
 * peer's verified certificate (on the event loop, before any frame is read, so the caller can put the session's
 * {@link MuxHandler} in this handler's place), or exceptionally with a readable reason when the handshake fails or the
 * connection closes first.
 */
public final class SessionHandshake extends ChannelInboundHandlerAdapter {

    private final String peer;
    private final CompletableFuture<X509Certificate> result = new CompletableFuture<>();

    /** @param peer what the other end is, for messages ("the agent", "the client") */
    public SessionHandshake(String peer) {
        this.peer = peer;
    }

    public CompletableFuture<X509Certificate> result() {
        return result;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent tls) {
            if (!tls.isSuccess()) {
                fail(ctx, "end-to-end TLS handshake with " + peer + " failed: " + ClientHandshake.rootMessage(tls.cause()));
                return;
            }
            try {
                X509Certificate certificate = (X509Certificate) ctx.pipeline().get(SslHandler.class).engine().getSession()
                        .getPeerCertificates()[0];
                result.complete(certificate);
            } catch (SSLPeerUnverifiedException e) {
                fail(ctx, peer + " presented no certificate");
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ReferenceCountUtil.release(msg);
        fail(ctx, peer + " sent " + msg + " before the end-to-end handshake completed");
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        fail(ctx, "the relay closed the data connection before the end-to-end handshake with " + peer + " completed");
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        fail(ctx, "data connection failed: " + ClientHandshake.rootMessage(cause));
    }

    /** The relay refused the session on this data connection instead of passing on the peer's handshake. */
    void refused(ChannelHandlerContext ctx, DataRefusal refusal) {
        fail(ctx, refusal.message());
    }

    private void fail(ChannelHandlerContext ctx, String message) {
        if (result.completeExceptionally(new ClientHandshake.HandshakeException(message))) {
            ctx.close();
        }
    }
}
