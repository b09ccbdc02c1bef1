package dev.porthole.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One stream of a {@link Multiplexer}. Outbound data waits in a small queue until the peer's window and
 * the connection's writability allow it; callers feed the queue one chunk at a time (a socket reads its
 * next chunk only from the chunk's {@code onWritten} callback), so it never holds more than
 * {@code maxPending} bytes. Public methods may be called from any thread: they hop onto the connection's
 * event loop.
 */
public final class Stream {

    private static final Logger LOG = LoggerFactory.getLogger(Stream.class);

    private final Multiplexer mux;
    private final int id;
    private final SendWindow sendWindow;
    private final ReceiveWindow receiveWindow;
    private final StreamState state = new StreamState();
    private final ArrayDeque<PendingWrite> pending = new ArrayDeque<>();
    private final CompletableFuture<EndReason> closeFuture = new CompletableFuture<>();
    private final long maxPending;
    private final long readAhead;
    private StreamHandler handler;
    private long pendingBytes;
    private boolean closeWhenDrained;
    private boolean waitingForWritability;

    Stream(Multiplexer mux, int id, int sendWindow, int receiveWindow, long maxPending) {
        this.mux = mux;
        this.id = id;
        this.sendWindow = new SendWindow(sendWindow);
        this.receiveWindow = new ReceiveWindow(receiveWindow);
        this.maxPending = maxPending;
        // Room for one more socket read (at most MAX_SOCKET_READ) above the read-ahead stays within maxPending.
        this.readAhead = Math.min(Math.min(sendWindow, READ_AHEAD), maxPending - Protocol.MAX_SOCKET_READ);
    }

    /** Most bytes a socket queues on a stream ahead of the peer's window before it stops reading. */
    static final int READ_AHEAD = 256 * 1024;

    public int id() {
        return id;
    }

    public Multiplexer multiplexer() {
        return mux;
    }

    /** Sets who receives the peer's data and events; must happen before the event loop turns. */
    public void bind(StreamHandler handler) {
        this.handler = handler;
    }

    /**
     * Completes when the stream has ended: with null after both sides closed gracefully, or with the
     * reason of a reset (local or remote) or connection loss.
     */
    public CompletableFuture<EndReason> closeFuture() {
        return closeFuture;
    }

    public boolean isTerminated() {
        return state.isTerminated();
    }

    /**
     * Queues {@code data} (ownership passes to the stream) and runs {@code onWritten}, on the event loop,
     * once the last byte of it has been written to the connection.
     */
    public void write(ByteBuf data, Runnable onWritten) {
        EventLoop loop = mux.eventLoop();
        if (!loop.inEventLoop()) {
            hop(loop, () -> write(data, onWritten), data);
            return;
        }
        if (state.isLocalClosed() || closeWhenDrained) {
            data.release();
            return;
        }
        int bytes = data.readableBytes();
        if (bytes == 0) {
            data.release();
            if (onWritten != null) {
                onWritten.run();
            }
            return;
        }
        if (pendingBytes + bytes > maxPending) {
            data.release();
            LOG.atError().addKeyValue("stream", id).addKeyValue("peer", mux.peer())
                    .addKeyValue("pendingBytes", pendingBytes).addKeyValue("chunk", bytes).addKeyValue("window", sendWindow.available())
                    .log("stream write queue over its bound; resetting");
            reset(EndReason.PROTOCOL_ERROR, "stream write queue over its bound");
            return;
        }
        pending.add(new PendingWrite(data, onWritten));
        pendingBytes += bytes;
        drain();
    }

    /** Half-closes: sends CLOSE after the queued data. */
    public void close() {
        EventLoop loop = mux.eventLoop();
        if (!loop.inEventLoop()) {
            hop(loop, this::close, null);
            return;
        }
        if (state.isLocalClosed() || closeWhenDrained) {
            return;
        }
        closeWhenDrained = true;
        drain();
    }

    /** Aborts the stream: drops queued data, sends RESET with the reason. */
    public void reset(EndReason reason, String message) {
        EventLoop loop = mux.eventLoop();
        if (!loop.inEventLoop()) {
            hop(loop, () -> reset(reason, message), null);
            return;
        }
        if (!state.reset()) {
            return;
        }
        releasePending();
        mux.send(new Frame.Reset(id, reason, message));
        mux.remove(this);
        closeFuture.complete(reason);
    }

    /** Gives {@code bytes} of receive credit back to the peer once they have left this side. */
    public void consumed(int bytes) {
        EventLoop loop = mux.eventLoop();
        if (!loop.inEventLoop()) {
            hop(loop, () -> consumed(bytes), null);
            return;
        }
        if (state.isTerminated() || state.isRemoteClosed()) {
            return;
        }
        int increment = receiveWindow.consumed(bytes);
        if (increment > 0) {
            mux.send(new Frame.WindowUpdate(id, increment));
        }
    }

    /**
     * Whether a socket feeding this stream should read more now: the stream is open and has fewer than
     * {@code min(peer window, 256 KiB)} bytes queued. Reading ahead of the last chunk's write keeps
     * chunks large and the pipe full; the bound keeps the queue within {@code maxPending}. Event loop only.
     */
    public boolean wantsData() {
        return pendingBytes < readAhead && !closeWhenDrained && !state.isLocalClosed() && !state.isTerminated();
    }

    /** Bytes queued to send plus bytes received and not yet consumed. */
    public long bufferedBytes() {
        return pendingBytes + receiveWindow.buffered();
    }

    void onData(ByteBuf data) {
        try {
            state.checkReceive(id);
            receiveWindow.received(data.readableBytes());
        } catch (ProtocolException e) {
            data.release();
            throw e;
        }
        handler.onData(this, data);
    }

    void onWindowUpdate(int increment) {
        sendWindow.credit(increment);
        drain();
    }

    void onRemoteClose() {
        state.remoteClose(id);
        handler.onRemoteClose(this);
        finishIfDone();
    }

    void onRemoteReset(EndReason reason, String message) {
        if (!state.reset()) {
            return;
        }
        releasePending();
        mux.remove(this);
        handler.onReset(this, reason, message);
        closeFuture.complete(reason);
    }

    void onWritable() {
        waitingForWritability = false;
        drain();
    }

    private void drain() {
        boolean wrote = false;
        while (!pending.isEmpty()) {
            if (!mux.isWritable()) {
                if (!waitingForWritability) {
                    waitingForWritability = true;
                    mux.waitForWritability(this);
                }
                break;
            }
            PendingWrite head = pending.peek();
            int granted = sendWindow.take(Math.min(head.data.readableBytes(), Protocol.MAX_DATA_PAYLOAD));
            if (granted == 0) {
                break;
            }
            ByteBuf chunk = head.data.readRetainedSlice(granted);
            pendingBytes -= granted;
            wrote = true;
            if (head.data.isReadable()) {
                mux.write(new Frame.Data(id, chunk));
            } else {
                pending.poll();
                head.data.release();
                ChannelFuture written = mux.writeWithFuture(new Frame.Data(id, chunk));
                if (head.onWritten != null) {
                    written.addListener(f -> {
                        if (f.isSuccess()) {
                            head.onWritten.run();
                        }
                    });
                }
            }
        }
        if (pending.isEmpty() && closeWhenDrained && state.closeLocal()) {
            mux.write(new Frame.Close(id));
            wrote = true;
            finishIfDone();
        }
        if (wrote) {
            mux.flush();
        }
    }

    private void finishIfDone() {
        if (state.isTerminated() && !state.isReset()) {
            mux.remove(this);
            closeFuture.complete(null);
        }
    }

    /** Ends the stream because its connection is gone. */
    void connectionLost(EndReason reason, String message) {
        onRemoteReset(reason, message);
    }

    private void releasePending() {
        PendingWrite write;
        while ((write = pending.poll()) != null) {
            write.data.release();
        }
        pendingBytes = 0;
    }

    private static void hop(EventLoop loop, Runnable task, ByteBuf owned) {
        try {
            loop.execute(task);
        } catch (RejectedExecutionException e) {
            if (owned != null) {
                owned.release();
            }
        }
    }

    @Override
    public String toString() {
        return "Stream[" + id + " " + mux.peer() + "]";
    }

    private record PendingWrite(ByteBuf data, Runnable onWritten) {
    }
}
