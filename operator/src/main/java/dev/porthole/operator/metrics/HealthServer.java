package dev.porthole.operator.metrics;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The operator's HTTP endpoint: {@code GET}/{@code HEAD} {@code /metrics} (Prometheus text),
 * {@code /healthz} (liveness) and {@code /readyz} (readiness), 200 or 503.
 *
 * <p>The kubelet restarts the operator when {@code /healthz} does not answer, so no client may be able
 * to hold the answer up. That is why this is a small Netty server and not the JDK's
 * {@code com.sun.net.httpserver.HttpServer}: the JDK server reads each request on an executor thread, so
 * every half-sent request holds a thread, and its only request time limit
 * ({@code sun.net.httpserver.maxReqTime}) is a JVM-wide system property read once, with no limit on
 * header bytes. Netty reads without blocking: a stalled client holds a channel, never the thread. Per
 * server ({@link Limits}):
 * <ul>
 *   <li>One event loop thread serves every connection. Answering is in-memory work (a Prometheus scrape,
 *       two flags), done on that thread.</li>
 *   <li>A connection gets {@link Limits#timeout()} from being accepted to send its whole request and take
 *       the answer, then it is closed. A {@code ReadTimeoutHandler} or {@code IdleStateHandler} would not
 *       do: they restart with every byte read, so a client trickling a byte a second would never time out.</li>
 *   <li>At most {@link Limits#maxConnections()} connections are open; accepting one more closes the
 *       oldest. Refusing the newcomer instead would let that many stalled clients lock the probe out
 *       until their deadline; the probe, which sends its request at once and is answered within
 *       milliseconds, is never the oldest.</li>
 *   <li>The request line is at most {@value #MAX_REQUEST_LINE} bytes, the headers at most
 *       {@link Limits#maxHeaderBytes()}, a body at most {@link Limits#maxBodyBytes()} (these endpoints
 *       read none). Past a limit the answer is 414, 431 or 413 and the connection closes.</li>
 *   <li>One request per connection ({@code Connection: close}): the kubelet's probes never reuse a
 *       connection and Prometheus copes, so no idle keep-alive connection holds a place.</li>
 * </ul>
 */
public final class HealthServer implements AutoCloseable {
    static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
    static final int MAX_REQUEST_LINE = 4096;
    private static final String PLAIN_TEXT = "text/plain; charset=utf-8";

    /**
     * Limits on each client.
     *
     * @param timeout        how long a connection may take, from being accepted, to send its request and take the answer
     * @param maxConnections how many connections may be open at once (one more closes the oldest)
     * @param maxHeaderBytes the most bytes of request headers (the request line has its own limit)
     * @param maxBodyBytes   the most bytes of request body
     */
    public record Limits(Duration timeout, int maxConnections, int maxHeaderBytes, int maxBodyBytes) {
        /** 5 s, 64 connections, 8 KiB of headers, 1 KiB of body. */
        public static final Limits DEFAULTS = new Limits(Duration.ofSeconds(5), 64, 8 * 1024, 1024);

        public Limits {
            if (timeout.isNegative() || timeout.isZero() || maxConnections < 1 || maxHeaderBytes < 1 || maxBodyBytes < 0) {
                throw new IllegalArgumentException("invalid HTTP limits " + timeout + ", " + maxConnections + ", "
                        + maxHeaderBytes + ", " + maxBodyBytes);
            }
        }
    }

    private final EventLoopGroup loop;
    private final Channel listener;
    private final Connections connections;

    private HealthServer(EventLoopGroup loop, Channel listener, Connections connections) {
        this.loop = loop;
        this.listener = listener;
        this.connections = connections;
    }

    /** Listens on {@code bindAddress:port} (port 0 picks a free one) with {@link Limits#DEFAULTS}. */
    public static HealthServer start(String bindAddress, int port, Supplier<String> metrics, BooleanSupplier live,
                                     BooleanSupplier ready) {
        return start(bindAddress, port, metrics, live, ready, Limits.DEFAULTS);
    }

    /** Listens on {@code bindAddress:port} (port 0 picks a free one). */
    public static HealthServer start(String bindAddress, int port, Supplier<String> metrics, BooleanSupplier live,
                                     BooleanSupplier ready, Limits limits) {
        Routes routes = new Routes(metrics, live, ready);
        Connections connections = new Connections(limits.maxConnections());
        EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("porthole-http", true),
                NioIoHandler.newFactory());
        HttpDecoderConfig decoder = new HttpDecoderConfig()
                .setMaxInitialLineLength(MAX_REQUEST_LINE)
                .setMaxHeaderSize(limits.maxHeaderBytes());
        ChannelFuture bound = new ServerBootstrap().group(loop)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 64)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        connections.admit(ch);
                        ch.pipeline().addLast(new HttpServerCodec(decoder), new Exchange(routes, limits));
                    }
                })
                .bind(new InetSocketAddress(bindAddress, port))
                .awaitUninterruptibly();
        if (!bound.isSuccess()) {
            loop.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            String message = "cannot listen for metrics and probes on " + bindAddress + ":" + port;
            throw bound.cause() instanceof IOException e ? new UncheckedIOException(message, e)
                    : new IllegalStateException(message, bound.cause());
        }
        return new HealthServer(loop, bound.channel(), connections);
    }

    public int port() {
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    /** How many client connections are open now. */
    int openConnections() {
        return connections.size();
    }

    @Override
    public void close() {
        listener.close().syncUninterruptibly();
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** The open connections, oldest first; admitting one past the cap closes the oldest. */
    private static final class Connections {
        private final int max;
        private final ArrayDeque<Channel> open = new ArrayDeque<>();

        Connections(int max) {
            this.max = max;
        }

        void admit(Channel ch) {
            Channel oldest = null;
            synchronized (this) {
                open.addLast(ch);
                if (open.size() > max) {
                    oldest = open.pollFirst();
                }
            }
            ch.closeFuture().addListener(f -> remove(ch));
            if (oldest != null) {
                oldest.close();
            }
        }

        synchronized void remove(Channel ch) {
            open.remove(ch);
        }

        synchronized int size() {
            return open.size();
        }
    }

    private record Routes(Supplier<String> metrics, BooleanSupplier live, BooleanSupplier ready) {
        FullHttpResponse answer(HttpRequest request) {
            boolean head = HttpMethod.HEAD.equals(request.method());
            if (!head && !HttpMethod.GET.equals(request.method())) {
                FullHttpResponse r = response(HttpResponseStatus.METHOD_NOT_ALLOWED, PLAIN_TEXT, "method not allowed\n", false);
                r.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD");
                return r;
            }
            String path;
            try {
                path = new QueryStringDecoder(request.uri()).path();
            } catch (IllegalArgumentException e) {
                return response(HttpResponseStatus.BAD_REQUEST, PLAIN_TEXT, "bad request\n", head);
            }
            return switch (path) {
                case "/metrics" -> scrape(head);
                case "/healthz" -> probe(live, head);
                case "/readyz" -> probe(ready, head);
                default -> response(HttpResponseStatus.NOT_FOUND, PLAIN_TEXT, "not found\n", head);
            };
        }

        private FullHttpResponse scrape(boolean head) {
            String body;
            try {
                body = metrics.get();
            } catch (RuntimeException e) {
                return response(HttpResponseStatus.INTERNAL_SERVER_ERROR, PLAIN_TEXT, "metrics unavailable\n", head);
            }
            return response(HttpResponseStatus.OK, PROMETHEUS_TEXT, body, head);
        }

        private static FullHttpResponse probe(BooleanSupplier check, boolean head) {
            boolean ok;
            try {
                ok = check.getAsBoolean();
            } catch (RuntimeException e) {
                ok = false;
            }
            return ok ? response(HttpResponseStatus.OK, PLAIN_TEXT, "ok\n", head)
                    : response(HttpResponseStatus.SERVICE_UNAVAILABLE, PLAIN_TEXT, "not ready\n", head);
        }
    }

    /** A response that ends the connection; to a HEAD request, the headers of the GET answer without its body. */
    private static FullHttpResponse response(HttpResponseStatus status, String contentType, String body, boolean head) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(bytes));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length)
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        return r;
    }

    /** One connection's single exchange: the request arrives whole, within its limits and its time, or the connection ends. */
    private static final class Exchange extends ChannelInboundHandlerAdapter {
        private final Routes routes;
        private final Limits limits;
        private ScheduledFuture<?> deadline;
        private HttpRequest request;
        private long bodyBytes;
        private boolean answered;

        Exchange(Routes routes, Limits limits) {
            this.routes = routes;
            this.limits = limits;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            deadline = ctx.executor().schedule(() -> {
                ctx.close();
            }, limits.timeout().toNanos(), TimeUnit.NANOSECONDS);
            ctx.fireChannelActive();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (deadline != null) {
                deadline.cancel(false);
            }
            ctx.fireChannelInactive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (!answered) {
                    read(ctx, msg);
                }
            } finally {
                ReferenceCountUtil.release(msg); // anything after the answer is dropped unread
            }
        }

        private void read(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof HttpRequest r) {
                if (r.decoderResult().isFailure()) {
                    refuse(ctx, statusFor(r.decoderResult()));
                    return;
                }
                request = r;
                bodyBytes = 0;
                if (HttpUtil.getContentLength(r, 0L) > limits.maxBodyBytes()) {
                    refuse(ctx, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE);
                    return;
                }
            }
            if (msg instanceof HttpContent content) {
                if (content.decoderResult().isFailure()) {
                    refuse(ctx, statusFor(content.decoderResult()));
                    return;
                }
                bodyBytes += content.content().readableBytes();
                if (bodyBytes > limits.maxBodyBytes()) {
                    refuse(ctx, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE);
                    return;
                }
                if (msg instanceof LastHttpContent && request != null) {
                    answered = true;
                    ctx.writeAndFlush(routes.answer(request)).addListener(ChannelFutureListener.CLOSE);
                }
            }
        }

        /**
         * Answers an unacceptable request and stops sending, but keeps reading (and dropping) until the
         * client closes or the deadline: closing with the client's bytes unread would reset the connection,
         * and the client might lose the answer that says why.
         */
        private void refuse(ChannelHandlerContext ctx, HttpResponseStatus status) {
            answered = true;
            ctx.writeAndFlush(response(status, PLAIN_TEXT, status.reasonPhrase().toLowerCase() + "\n", false))
                    .addListener(f -> {
                        if (!f.isSuccess()) {
                            ctx.close();
                        } else if (ctx.channel() instanceof DuplexChannel duplex) {
                            duplex.shutdownOutput();
                        }
                    });
        }

        private static HttpResponseStatus statusFor(DecoderResult result) {
            if (result.cause() instanceof TooLongHttpLineException) {
                return HttpResponseStatus.REQUEST_URI_TOO_LONG;
            }
            if (result.cause() instanceof TooLongHttpHeaderException) {
                return HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE;
            }
            return HttpResponseStatus.BAD_REQUEST;
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
