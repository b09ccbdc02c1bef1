package dev.porthole.relay;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One side of a session at the relay: moves the bytes of its data connection, end-to-end ciphertext the relay cannot
 * read, to the other side's connection, and counts them. Reads run only while the other side can take more
 * (AUTO_READ off while its write buffer is above the high-water mark), so the relay holds at most about one write
 * buffer per direction. Until the other side has arrived, what the dialler sends early (its TLS ClientHello) waits
 * here, bounded by {@link #MAX_EARLY_BYTES}; reading pauses meanwhile. When either side closes, the other is flushed and
 * closed.
 */
final class RelaySplice extends ChannelInboundHandlerAdapter {

    /** A TLS ClientHello with a client certificate request fits many times over; more before pairing is abuse. */
    static final int MAX_EARLY_BYTES = 64 * 1024;

    private final AtomicLong counter;
    private final ArrayDeque<ByteBuf> early = new ArrayDeque<>();
    private int earlyBytes;
    private Channel self;
    private Channel peer;

    /** @param counter where the bytes read on this side are counted */
    RelaySplice(AtomicLong counter) {
        this.counter = counter;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        self = ctx.channel();
        self.config().setAutoRead(false);
        self.read(); // take what the dialler sent after its preamble, up to one read, until the peer is here
    }

    /** Joins the other side (on this channel's event loop): early bytes go through, and reading starts. */
    void pair(Channel other) {
        peer = other;
        if (!other.isActive()) {
            closeSelf();
            return;
        }
        boolean any = !early.isEmpty();
        while (!early.isEmpty()) {
            other.write(early.poll(), other.voidPromise());
        }
        earlyBytes = 0;
        if (any) {
            other.flush();
        }
        if (self.isActive()) {
            self.config().setAutoRead(other.isWritable());
        } else {
            closePeer();
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf bytes)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        counter.addAndGet(bytes.readableBytes());
        if (peer == null) {
            earlyBytes += bytes.readableBytes();
            early.add(bytes);
            if (earlyBytes > MAX_EARLY_BYTES) {
                ctx.close();
            }
            return;
        }
        peer.write(bytes, peer.voidPromise());
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (peer == null) {
            return;
        }
        peer.flush();
        if (!peer.isWritable()) {
            self.config().setAutoRead(false);
        }
    }

    /** This side's own write buffer drained: the other side may read again. */
    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (peer != null && self.isWritable()) {
            peer.config().setAutoRead(true);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        release();
        closePeer();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        release();
    }

    private void closePeer() {
        if (peer != null && peer.isActive()) {
            // what this side sent before it closed still reaches the other side
            peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }

    private void closeSelf() {
        self.close();
    }

    private void release() {
        while (!early.isEmpty()) {
            early.poll().release();
        }
        earlyBytes = 0;
    }
}
