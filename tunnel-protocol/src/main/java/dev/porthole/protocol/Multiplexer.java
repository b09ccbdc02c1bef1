package dev.porthole.protocol;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import io.netty.util.collection.IntObjectHashMap;
import io.netty.util.collection.IntObjectMap;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * The streams of one connection after its handshake. Routes stream frames to {@link Stream}s, answers
 * pings, hands writability back to blocked streams in turn, and ends every stream with one reason when
 * the connection goes. Runs on the connection's event loop only; {@link MuxHandler} feeds it.
 */
public final class Multiplexer {

    private static final Logger LOG = LoggerFactory.getLogger(Multiplexer.class);
    private static final long CLOSE_GRACE_MILLIS = 1000;

    private final Channel channel;
    private final Settings settings;
    private final int peerWindow;
    private final IntObjectMap<Stream> streams = new IntObjectHashMap<>();
    private final ArrayDeque<Stream> blocked = new ArrayDeque<>();
    private final StreamAcceptor acceptor;
    private final ConnectionObserver observer;
    private final ControlFrames control;
    private int nextStreamId = 1;
    private EndReason endReason;
    private String endMessage;
    private boolean closing;
    private boolean closed;

    /**
     * @param channel    the connection, handshake done
     * @param settings   local window, stream limit, context for logs, the reason used when the connection is lost
     * @param peerWindow the per-stream window the peer announced in its handshake
     * @param acceptor   handles streams the peer opens; null when the peer may not open streams
     * @param observer   told once how the connection ended
     */
    public Multiplexer(Channel channel, Settings settings, int peerWindow, StreamAcceptor acceptor,
                       ConnectionObserver observer) {
        this(channel, settings, peerWindow, acceptor, observer, null);
    }

    /**
     * A control connection: as above, and {@code control} receives the session frames ({@link ControlFrames}); null
     * when this connection carries none (a session's own connection).
     */
    public Multiplexer(Channel channel, Settings settings, int peerWindow, StreamAcceptor acceptor,
                       ConnectionObserver observer, ControlFrames control) {
        this.channel = channel;
        this.settings = settings;
        this.peerWindow = peerWindow;
        this.acceptor = acceptor;
        this.observer = observer;
        this.control = control;
    }

    /** Per-connection settings. {@code context} names the connection in logs (e.g. {@code forward=a/b}). */
    public record Settings(int localWindow, int maxStreams, String context, EndReason lostReason) {
        public Settings {
            if (localWindow < Protocol.MIN_WINDOW || localWindow > Protocol.MAX_WINDOW) {
                throw new IllegalArgumentException("window out of range: " + localWindow);
            }
        }

        /**
         * Most bytes one stream may queue for sending; more is a bug and resets the stream. The relay queues at
         * most one window (credit goes back only once written); a socket splice at most its read-ahead plus one
         * socket read ({@link Protocol#MAX_SOCKET_READ}).
         */
        long maxPending() {
            return 2L * localWindow + 2L * Protocol.MAX_SOCKET_READ;
        }
    }

    /** Opens a new stream (sends OPEN). */
    public Stream openStream(StreamHandler handler) {
        int id = nextStreamId;
        nextStreamId += 2;
        Stream stream = register(id, handler);
        send(new Frame.Open(id));
        return stream;
    }

    /** Registers a stream both sides know without OPEN, e.g. the single stream of a client session. */
    public Stream adoptStream(int id, StreamHandler handler) {
        return register(id, handler);
    }

    private Stream register(int id, StreamHandler handler) {
        Stream stream = new Stream(this, id, peerWindow, settings.localWindow(), settings.maxPending());
        stream.bind(handler);
        streams.put(id, stream);
        return stream;
    }

    public int streamCount() {
        return streams.size();
    }

    /** Sum of {@link Stream#bufferedBytes()} over all streams: what this connection holds in memory. */
    public long bufferedBytes() {
        long total = 0;
        for (Stream stream : streams.values()) {
            total += stream.bufferedBytes();
        }
        return total;
    }

    public Channel channel() {
        return channel;
    }

    public EventLoop eventLoop() {
        return channel.eventLoop();
    }

    public String peer() {
        return settings.context();
    }

    /** Dispatches one frame read from the connection; the caller releases nothing afterwards. */
    public void onFrame(Frame frame) {
        if (frame instanceof Frame.Data data) {
            Stream stream = streams.get(data.streamId());
            if (stream == null) {
                // Data in flight when we reset the stream; harmless.
                data.release();
                return;
            }
            stream.onData(data.content());
        } else if (frame instanceof Frame.WindowUpdate update) {
            Stream stream = streams.get(update.streamId());
            if (stream != null) {
                stream.onWindowUpdate(update.increment());
            }
        } else if (frame instanceof Frame.Close close) {
            Stream stream = streams.get(close.streamId());
            if (stream != null) {
                stream.onRemoteClose();
            } else if (control != null) {
                control.onControl(close);
            }
        } else if (frame instanceof Frame.Reset reset) {
            Stream stream = streams.get(reset.streamId());
            if (stream != null) {
                stream.onRemoteReset(reset.reason(), reset.message());
            } else if (control != null) {
                control.onControl(reset);
            }
        } else if (frame instanceof Frame.Session || frame instanceof Frame.Grant || frame instanceof Frame.Dial
                || frame instanceof Frame.Ended) {
            if (control == null) {
                throw new ProtocolException("unexpected " + frame.getClass().getSimpleName() + " on this connection");
            }
            control.onControl(frame);
        } else if (frame instanceof Frame.Open open) {
            onOpen(open.streamId());
        } else if (frame instanceof Frame.Ping ping) {
            send(new Frame.Pong(ping.payload()));
        } else if (frame instanceof Frame.GoAway goAway) {
            log(LOG.atDebug()).addKeyValue("reason", goAway.reason()).addKeyValue("message", goAway.message())
                    .log("peer is going away");
            recordEnd(goAway.reason(), goAway.message());
            channel.close();
        } else if (!(frame instanceof Frame.Pong)) {
            throw new ProtocolException("unexpected " + frame.getClass().getSimpleName() + " after handshake");
        }
    }

    private void onOpen(int id) {
        if (acceptor == null) {
            throw new ProtocolException("peer may not open streams");
        }
        if (streams.containsKey(id)) {
            throw new ProtocolException("OPEN for stream " + id + " that is already open");
        }
        if (streams.size() >= settings.maxStreams()) {
            send(new Frame.Reset(id, EndReason.AGENT_UNAVAILABLE, "too many streams on this connection"));
            return;
        }
        Stream stream = register(id, null);
        StreamHandler handler = acceptor.accept(stream);
        if (handler == null) {
            stream.reset(EndReason.CANCELLED, "stream refused");
        } else {
            stream.bind(handler);
        }
    }

    /** Reader idle: the first time ping, the second time (nothing read for two intervals) give up. */
    public void onReaderIdle(boolean first) {
        if (first) {
            send(new Frame.Ping(System.nanoTime()));
            return;
        }
        log(LOG.atWarn()).log("peer silent for two keepalive intervals; closing connection");
        close(settings.lostReason(), "peer stopped answering keepalive pings");
    }

    /** The channel's writability changed: let blocked streams continue, oldest first. */
    public void onWritabilityChanged() {
        while (channel.isWritable() && !blocked.isEmpty()) {
            blocked.poll().onWritable();
        }
    }

    /** A read or decode failure: protocol errors are logged with the connection's context, then it closes. */
    public void onError(Throwable cause) {
        if (cause instanceof ProtocolException || cause.getCause() instanceof ProtocolException) {
            String message = cause instanceof ProtocolException ? cause.getMessage() : cause.getCause().getMessage();
            log(LOG.atWarn()).addKeyValue("error", message).log("protocol error; closing this connection");
            close(EndReason.PROTOCOL_ERROR, message);
        } else {
            log(LOG.atDebug()).addKeyValue("error", String.valueOf(cause)).log("connection failed");
            recordEnd(settings.lostReason(), String.valueOf(cause.getMessage()));
            channel.close();
        }
    }

    /** Ends every stream with {@code reason}, tells the peer why (GOAWAY) and closes the connection. */
    public void close(EndReason reason, String message) {
        if (!eventLoop().inEventLoop()) {
            eventLoop().execute(() -> close(reason, message));
            return;
        }
        if (closed || closing) {
            return;
        }
        closing = true;
        recordEnd(reason, message);
        endStreams(reason, message);
        if (channel.isActive()) {
            // The peer closes when it reads the GOAWAY. Closing first could turn into a TCP reset that
            // destroys frames the peer has received but not yet read, so close only after a grace period.
            channel.writeAndFlush(new Frame.GoAway(reason, message)).addListener(f ->
                    eventLoop().schedule(() -> channel.close(), CLOSE_GRACE_MILLIS, TimeUnit.MILLISECONDS));
        } else {
            channel.close();
        }
    }

    /** The channel closed: every remaining stream ends with the recorded or the loss reason. */
    public void onChannelInactive() {
        if (closed) {
            return;
        }
        recordEnd(settings.lostReason(), "connection closed");
        endStreams(endReason, endMessage);
        closed = true;
        observer.closed(endReason, endMessage);
    }

    private void endStreams(EndReason reason, String message) {
        List<Stream> open = new ArrayList<>(streams.values());
        for (Stream stream : open) {
            stream.connectionLost(reason, message);
        }
        blocked.clear();
    }

    private void recordEnd(EndReason reason, String message) {
        if (endReason == null) {
            endReason = reason;
            endMessage = message;
        }
    }

    /** Sends a control frame (a session's request, grant, dial or end) from any thread; dropped once closed. */
    public void sendControl(Frame frame) {
        if (!eventLoop().inEventLoop()) {
            eventLoop().execute(() -> sendControl(frame));
            return;
        }
        if (!closing && !closed) {
            send(frame);
        }
    }

    /** Whether the connection is open and not closing. */
    public boolean isOpen() {
        return !closing && !closed && channel.isActive();
    }

    // --- used by Stream ---

    boolean isWritable() {
        return channel.isWritable();
    }

    void waitForWritability(Stream stream) {
        blocked.add(stream);
    }

    void write(Frame frame) {
        channel.write(frame, channel.voidPromise());
    }

    ChannelFuture writeWithFuture(Frame frame) {
        return channel.write(frame);
    }

    void flush() {
        channel.flush();
    }

    void send(Frame frame) {
        if (channel.isActive()) {
            channel.writeAndFlush(frame, channel.voidPromise());
        }
    }

    void remove(Stream stream) {
        streams.remove(stream.id());
    }

    LoggingEventBuilder log(LoggingEventBuilder event) {
        return event.addKeyValue("connection", settings.context());
    }
}
