package dev.porthole.protocol;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.nio.NioIoHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The common pipeline of every tunnel connection: TLS, keepalive idle detection, frame codec. */
public final class TunnelPipeline {

    /** Write-buffer bounds of tunnel connections: streams stop sending above 1 MiB queued, resume under 256 KiB. */
    public static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(256 * 1024, 1024 * 1024);

    /**
     * Receive buffers of tunnel connections grow to 256 KiB: one read then carries several TLS records, which
     * OpenSSL decrypts in one call, and the connection makes fewer system calls.
     */
    public static final RecvByteBufAllocator RECV_ALLOCATOR = new AdaptiveRecvByteBufAllocator(512, 16 * 1024,
            256 * 1024);

    /**
     * Flushes wait for the end of the current read batch, or the end of the event-loop turn when the write came
     * from another connection (the relay's splice, a socket read), so that frames of several streams and
     * reads leave in one TLS flush and one system call. Up to 64 flushes are merged.
     */
    private static final int MERGED_FLUSHES = 64;

    /** The flush consolidation of tunnel connections, also used on spliced sockets ({@link SocketSplice}). */
    static FlushConsolidationHandler flushConsolidation() {
        return new FlushConsolidationHandler(MERGED_FLUSHES, true);
    }

    /** Handler names, for tests and pipeline surgery. */
    public static final String TLS = "tls";
    public static final String IDLE = "idle";
    public static final String DECODER = "frameDecoder";
    public static final String ENCODER = "frameEncoder";
    public static final String FLUSHES = "flushConsolidation";
    public static final String APPLICATION = "application";

    private TunnelPipeline() {
    }

    /** Server side of a connection. */
    public static void server(Channel channel, SslContext tls, Duration keepAlive) {
        add(channel.pipeline(), tls.newHandler(channel.alloc()), keepAlive);
    }

    /** Client side of a connection to {@code host:port} (the host name is verified against the certificate). */
    public static void client(Channel channel, SslContext tls, String host, int port, Duration keepAlive) {
        add(channel.pipeline(), tls.newHandler(channel.alloc(), host, port), keepAlive);
    }

    private static void add(ChannelPipeline pipeline, SslHandler ssl, Duration keepAlive) {
        pipeline.addLast(TLS, ssl)
                .addLast(IDLE, new IdleStateHandler(keepAlive.toMillis(), 0, 0, TimeUnit.MILLISECONDS))
                .addLast(DECODER, new FrameDecoder())
                .addLast(ENCODER, FrameEncoder.INSTANCE)
                .addLast(FLUSHES, flushConsolidation());
        pipeline.channel().config().setRecvByteBufAllocator(RECV_ALLOCATOR);
    }

    /**
     * Dials {@code host:port} on {@code loop} with the tunnel pipeline and {@code handshake} as its last
     * handler; a failed connect fails the handshake's result.
     */
    public static ChannelFuture dial(EventLoop loop, SslContext tls, String host, int port, Duration keepAlive,
                                     ClientHandshake handshake) {
        return dial(loop, tls, host, port, InetSocketAddress.createUnresolved(host, port), keepAlive, handshake);
    }

    /**
     * As {@link #dial(EventLoop, SslContext, String, int, Duration, ClientHandshake)}, but connects to {@code connectTo}
     * (one replica's address, which {@code host} resolved to) while TLS still verifies the relay's certificate for
     * {@code host}.
     */
    public static ChannelFuture dial(EventLoop loop, SslContext tls, String host, int port, InetSocketAddress connectTo,
                                     Duration keepAlive, ClientHandshake handshake) {
        return dialler(loop).handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        client(ch, tls, host, port, keepAlive);
                        ch.pipeline().addLast(APPLICATION, handshake);
                    }
                })
                .connect(connectTo)
                .addListener(f -> {
                    if (!f.isSuccess()) {
                        handshake.result().completeExceptionally(new ClientHandshake.HandshakeException(
                                "cannot reach relay " + describe(host, port, connectTo) + ": " + f.cause().getMessage()));
                    }
                });
    }

    /**
     * Dials a data connection to the relay at {@code host:port} on {@code loop}: writes {@code preamble} in the clear,
     * then runs the end-to-end TLS handshake through it ({@code tls}: {@link dev.porthole.protocol.tls.TlsContexts#sessionClient}
     * for the client, {@code sessionServer} for the agent) and the frame codec, with {@code handshake} last. The relay
     * passes everything after the preamble on unread. A failed connect fails the handshake's result.
     */
    public static ChannelFuture dialData(EventLoop loop, String host, int port, DataPreamble preamble, SslContext tls,
                                         Duration keepAlive, SessionHandshake handshake) {
        return dialData(loop, InetSocketAddress.createUnresolved(host, port), preamble, tls, keepAlive, handshake);
    }

    /**
     * As {@link #dialData(EventLoop, String, int, DataPreamble, SslContext, Duration, SessionHandshake)}, to
     * {@code relay} (a name to resolve, or the replica's address its control connection reached). A
     * {@link DataRefusal} the relay writes instead of the peer's TLS answer fails the handshake with its message.
     */
    public static ChannelFuture dialData(EventLoop loop, InetSocketAddress relay, DataPreamble preamble, SslContext tls,
                                         Duration keepAlive, SessionHandshake handshake) {
        return dialler(loop).handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        // first in the pipeline: its channelActive writes the preamble before TLS writes anything
                        ch.pipeline().addLast("preamble", new PreambleWriter(preamble));
                        ch.pipeline().addLast("refusal", new RefusalReader());
                        add(ch.pipeline(), tls.newHandler(ch.alloc()), keepAlive);
                        ch.pipeline().addLast(APPLICATION, handshake);
                    }
                })
                .connect(relay)
                .addListener(f -> {
                    if (!f.isSuccess()) {
                        handshake.result().completeExceptionally(new ClientHandshake.HandshakeException(
                                "cannot reach relay " + describe(relay) + " for a data connection: "
                                        + f.cause().getMessage()));
                    }
                });
    }

    /** What every connection dialled to a relay starts from: no Nagle, a 10 s connect timeout, the write watermarks. */
    private static Bootstrap dialler(EventLoop loop) {
        return new Bootstrap().group(loop).channel(NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK);
    }

    private static String describe(String host, int port, InetSocketAddress connectTo) {
        return connectTo.isUnresolved() || connectTo.getAddress() == null ? host + ":" + port
                : host + ":" + port + " (" + connectTo.getAddress().getHostAddress() + ")";
    }

    private static String describe(InetSocketAddress relay) {
        return relay.isUnresolved() ? relay.getHostString() + ":" + relay.getPort()
                : relay.getAddress().getHostAddress() + ":" + relay.getPort();
    }

    /**
     * Reads what the relay sends on a data connection before the peer's TLS: a {@link DataRefusal} (the relay would not
     * open the session) fails the handshake with its message; the first byte of a TLS record lets everything through
     * and leaves the pipeline.
     */
    private static final class RefusalReader extends io.netty.handler.codec.ByteToMessageDecoder {
        @Override
        protected void decode(io.netty.channel.ChannelHandlerContext ctx, io.netty.buffer.ByteBuf in, List<Object> out) {
            if (in.getUnsignedByte(in.readerIndex()) != DataRefusal.FIRST_BYTE) {
                ctx.pipeline().remove(this); // what is buffered goes on to TLS
                return;
            }
            DataRefusal refusal;
            try {
                refusal = DataRefusal.read(in);
            } catch (ProtocolException e) {
                in.skipBytes(in.readableBytes());
                ctx.fireExceptionCaught(e);
                return;
            }
            if (refusal != null) {
                in.skipBytes(in.readableBytes());
                SessionHandshake handshake = ctx.pipeline().get(SessionHandshake.class);
                if (handshake != null) {
                    handshake.refused(ctx, refusal);
                }
                ctx.close();
            }
        }
    }

    /** Writes a data connection's preamble as it becomes active, then leaves the pipeline. */
    private static final class PreambleWriter extends io.netty.channel.ChannelInboundHandlerAdapter {
        private final DataPreamble preamble;

        PreambleWriter(DataPreamble preamble) {
            this.preamble = preamble;
        }

        @Override
        public void channelActive(io.netty.channel.ChannelHandlerContext ctx) {
            io.netty.buffer.ByteBuf buf = ctx.alloc().buffer(preamble.length());
            preamble.writeTo(buf);
            ctx.writeAndFlush(buf, ctx.voidPromise());
            ctx.pipeline().remove(this);
            ctx.fireChannelActive();
        }
    }

    /**
     * Moves a connection (TLS handshake done, nothing in flight) onto {@code loop}: deregisters it from its
     * event loop, registers it with {@code loop}, and renews its keepalive timer and flush consolidation there
     * (a timer or a scheduled flush cannot move with it). The returned future completes on {@code loop}; on failure the connection is closed. The
     * relay uses it to put a client session on the event loop of the agent connection it is spliced to, so
     * that frames and credit pass between the two without a cross-thread task per frame.
     */
    public static Future<Void> moveToEventLoop(Channel channel, EventLoop loop, Duration keepAlive) {
        Promise<Void> moved = loop.newPromise();
        if (channel.eventLoop() == loop) {
            return moved.setSuccess(null);
        }
        ChannelPipeline pipeline = channel.pipeline();
        if (pipeline.get(IDLE) != null) {
            pipeline.remove(IDLE);
        }
        // A consolidated flush may be scheduled on the old loop; removing the handler flushes it now, and the
        // handler comes back on the new loop with no state shared between the two threads.
        if (pipeline.get(FLUSHES) != null) {
            pipeline.remove(FLUSHES);
        }
        channel.deregister().addListener(deregistered -> {
            if (!deregistered.isSuccess()) {
                channel.close();
                moved.tryFailure(deregistered.cause());
                return;
            }
            loop.register(channel).addListener(registered -> {
                if (!registered.isSuccess()) {
                    channel.close();
                    moved.tryFailure(registered.cause());
                    return;
                }
                if (pipeline.get(TLS) != null) {
                    pipeline.addAfter(TLS, IDLE, new IdleStateHandler(keepAlive.toMillis(), 0, 0, TimeUnit.MILLISECONDS));
                }
                if (pipeline.get(ENCODER) != null) {
                    pipeline.addAfter(ENCODER, FLUSHES, flushConsolidation());
                }
                moved.trySuccess(null);
            });
        });
        return moved;
    }

    /**
     * An NIO event-loop group with threads named {@code prefix-N}. (Native epoll measured no faster here, and
     * its channels read a half-closed socket to EOF whatever AUTO_READ says, which would break the bound
     * on what a stream queues.)
     */
    public static EventLoopGroup eventLoops(int threads, String prefix) {
        return new MultiThreadIoEventLoopGroup(threads, new io.netty.util.concurrent.DefaultThreadFactory(prefix),
                NioIoHandler.newFactory());
    }
}
