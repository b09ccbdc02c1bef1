package dev.porthole.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Joins a TCP socket (the agent's target connection, the CLI's local connection) to a {@link Stream}.
 * The socket runs with AUTO_READ off and half-closure allowed: a chunk is read and handed to the stream,
 * and the next is read while the stream {@linkplain Stream#wantsData() wants more} (a bounded read-ahead),
 * else once a queued chunk has been written to the tunnel connection. Data from the stream is written to
 * the socket and flushed once per event-loop turn (so several frames go out in one system call under load);
 * its credit is returned once the write completed. EOF from the socket
 * becomes CLOSE, CLOSE from the peer shuts the socket's output, the socket closes when both are done;
 * a reset closes it at once. Either side may arrive first: the splice starts when it has both.
 * Must be on the same event loop as the stream's connection.
 */
public final class SocketSplice extends ChannelInboundHandlerAdapter implements StreamHandler {

    private static final Logger LOG = LoggerFactory.getLogger(SocketSplice.class);

    /** Told once when the splice ends. */
    @FunctionalInterface
    public interface EndListener {
        /** {@code reason} is null after a graceful close in both directions. */
        void ended(EndReason reason, String message, long bytesFromSocket, long bytesToSocket);
    }

    /**
     * Receive buffers of spliced sockets: start at 16 KiB, grow to {@link Protocol#MAX_SOCKET_READ} while reads
     * fill them. Larger reads mean fewer system calls; the stream cuts them into 64 KiB DATA frames, and the
     * read size bounds what one read adds to a stream's queue.
     */
    public static final RecvByteBufAllocator RECV_ALLOCATOR = new AdaptiveRecvByteBufAllocator(512, 16 * 1024,
            Protocol.MAX_SOCKET_READ);

    private final EndListener endListener;
    private final ArrayDeque<ByteBuf> early = new ArrayDeque<>();
    private Stream stream;
    private Channel socket;
    private boolean remoteClosedEarly;
    /** Which direction ended first: null while both are open. */
    private Boolean socketEndedFirst;
    private boolean inputEnded;
    /** Whether the stream's peer reset the stream (rather than this socket ending it). */
    private boolean resetByStreamPeer;
    private boolean ended;
    private long bytesFromSocket;
    private long bytesToSocket;

    public SocketSplice(EndListener endListener) {
        this.endListener = endListener;
    }

    /** Connects the splice to its stream; call on the stream's event loop. */
    public void attach(Stream stream) {
        this.stream = stream;
        stream.bind(this);
        stream.closeFuture().whenComplete((reason, error) -> stream.multiplexer().eventLoop()
                .execute(() -> onStreamEnded(reason)));
        startIfReady();
    }

    /** The socket could not be opened: the stream is reset with {@code reason}. */
    public void fail(EndReason reason, String message) {
        releaseEarly();
        if (stream != null) {
            stream.reset(reason, message);
        }
        finish(reason, message);
    }

    public long bytesFromSocket() {
        return bytesFromSocket;
    }

    public long bytesToSocket() {
        return bytesToSocket;
    }

    /**
     * Which side finished sending first, if either did gracefully: true for the socket (EOF from it before CLOSE from
     * the stream's peer), false for the stream's peer, null if neither (a reset, a refused connection).
     */
    public Boolean socketEndedFirst() {
        return socketEndedFirst;
    }

    /** Whether the stream ended because its peer reset it (its reason is then the peer's, not this socket's). */
    public boolean resetByStreamPeer() {
        return resetByStreamPeer;
    }

    // --- socket side ---

    /** Writes to the socket are flushed once per event-loop turn, as on tunnel connections. */
    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        ctx.pipeline().addBefore(ctx.name(), null, TunnelPipeline.flushConsolidation());
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        socket = ctx.channel();
        startIfReady();
        ctx.fireChannelActive();
    }

    private void startIfReady() {
        if (stream == null || socket == null) {
            return;
        }
        ByteBuf buf;
        while ((buf = early.poll()) != null) {
            writeToSocket(buf);
        }
        if (remoteClosedEarly) {
            shutdownSocketOutput();
        }
        if (!stream.isTerminated()) {
            socket.read();
        } else {
            socket.close();
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf buf = (ByteBuf) msg;
        bytesFromSocket += buf.readableBytes();
        stream.write(buf, readNext);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        readNext.run();
        ctx.fireChannelReadComplete();
    }

    /**
     * Runs when a chunk has been written to the tunnel: read on if the stream wants more. At most one read
     * is outstanding (a second read() while one is pending is a no-op), so the stream's queue stays under
     * its read-ahead plus one read buffer ({@link #RECV_ALLOCATOR}: at most 64 KiB).
     */
    private final Runnable readNext = () -> {
        if (!inputEnded && socket.isActive() && stream.wantsData()) {
            socket.read();
        }
    };

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            inputEnded = true;
            if (socketEndedFirst == null) {
                socketEndedFirst = true;
            }
            stream.close();
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (stream != null && !stream.isTerminated()) {
            stream.reset(EndReason.CANCELLED, "socket closed before the stream ended");
        }
        releaseEarly();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.atDebug().addKeyValue("stream", stream == null ? 0 : stream.id()).addKeyValue("socket", ctx.channel())
                .addKeyValue("error", String.valueOf(cause)).log("socket failed");
        ctx.close();
    }

    // --- stream side ---

    @Override
    public void onData(Stream stream, ByteBuf data) {
        if (socket == null) {
            early.add(data);
            return;
        }
        writeToSocket(data);
    }

    @Override
    public void onRemoteClose(Stream stream) {
        if (socketEndedFirst == null) {
            socketEndedFirst = false;
        }
        if (socket == null) {
            remoteClosedEarly = true;
            return;
        }
        shutdownSocketOutput();
    }

    @Override
    public void onReset(Stream stream, EndReason reason, String message) {
        resetByStreamPeer = true;
        releaseEarly();
        // the reset's reason is the end's: closing the socket first would report its own close as the cause
        finish(reason, message);
        if (socket != null) {
            socket.close();
        }
    }

    private void writeToSocket(ByteBuf data) {
        int bytes = data.readableBytes();
        bytesToSocket += bytes;
        socket.writeAndFlush(data).addListener(f -> {
            if (f.isSuccess()) {
                stream.consumed(bytes);
            }
        });
    }

    private void shutdownSocketOutput() {
        socket.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
            if (socket instanceof DuplexChannel duplex && socket.isActive()) {
                duplex.shutdownOutput();
            }
        });
    }

    private void onStreamEnded(EndReason reason) {
        if (socket != null) {
            if (reason == null) {
                socket.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            } else {
                socket.close();
            }
        }
        finish(reason, reason == null ? "closed" : reason.name());
    }

    private void finish(EndReason reason, String message) {
        if (ended) {
            return;
        }
        ended = true;
        if (endListener != null) {
            endListener.ended(reason, message, bytesFromSocket, bytesToSocket);
        }
    }

    private void releaseEarly() {
        ByteBuf buf;
        while ((buf = early.poll()) != null) {
            buf.release();
        }
    }
}
