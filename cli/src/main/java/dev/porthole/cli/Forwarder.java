package dev.porthole.cli;

import dev.porthole.protocol.BindScope;
import dev.porthole.protocol.ClientHandshake;
import dev.porthole.protocol.EndReason;
import dev.porthole.protocol.Frame;
import dev.porthole.protocol.MuxHandler;
import dev.porthole.protocol.Multiplexer;
import dev.porthole.protocol.Protocol;
import dev.porthole.protocol.Role;
import dev.porthole.protocol.SocketSplice;
import dev.porthole.protocol.Stream;
import dev.porthole.protocol.TunnelPipeline;
import dev.porthole.protocol.pki.ClientIdentity;
import dev.porthole.protocol.tls.TlsContexts;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.SslContext;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The client end of a forward: asks the relay (a probe) whether this certificate may use the forward and
 * learns its bind scope and expiry, refuses a bind address the scope does not allow, then listens and
 * carries every accepted connection over its own mutual-TLS session to the relay. The probe connection
 * stays open: when the relay says the forward expired or was revoked, or the expiry passes, the forwarder
 * stops and {@link #termination()} says why. When the relay itself goes away (a restart, an upgrade), the
 * forwarder keeps listening and watches the forward again once a relay answers.
 */
public final class Forwarder implements AutoCloseable {

    /** How a forwarder ended. */
    public record Termination(EndReason reason, String message) {
    }

    /** First and longest wait between attempts to reach a relay that went away. */
    static final Duration RECONNECT_FIRST = Duration.ofMillis(250);
    static final Duration RECONNECT_MAX = Duration.ofSeconds(8);

    private final ForwarderConfig config;
    private final Consumer<String> events;
    private final io.netty.channel.group.ChannelGroup locals =
            new io.netty.channel.group.DefaultChannelGroup(io.netty.util.concurrent.GlobalEventExecutor.INSTANCE);
    private final EventLoopGroup group = TunnelPipeline.eventLoops(2, "porthole-cli");
    private final CompletableFuture<Termination> termination = new CompletableFuture<>();
    /** Set as {@link #stop} begins (before {@link #termination} completes): nothing is reconnected from then on. */
    private volatile boolean stopping;
    private SslContext tls;
    private Channel server;
    private volatile Channel watch;
    private BindScope scope;
    private Instant expiresAt;

    /** @param events receives one line per notable event (refused session, session ended abnormally) */
    public Forwarder(ForwarderConfig config, Consumer<String> events) {
        this.config = config;
        this.events = events;
    }

    /**
     * Probes, checks the bind address against the scope and starts listening.
     *
     * @throws ForwarderException with a message for the user when the relay refuses, the bind address is
     *                            outside the scope, or the port is taken
     */
    public Forwarder start() {
        try {
            tls = TlsContexts.client(config.relayCa(), config.certificates().clientKey(config.forward()));
            probe();
            if (!scope.permits(config.localAddress())) {
                throw new ForwarderException("refusing to listen on " + config.localAddress().getHostAddress()
                        + ": forward " + config.forward() + " has bind scope " + scope
                        + ", which allows loopback addresses only (use --address 127.0.0.1)");
            }
            listen();
            EventLoop loop = group.next();
            long untilExpiry = Math.max(0, Duration.between(Instant.now(), expiresAt).toMillis());
            loop.schedule(() -> stop(EndReason.EXPIRED, "forward " + config.forward() + " expired at " + expiresAt),
                    untilExpiry, TimeUnit.MILLISECONDS);
            return this;
        } catch (RuntimeException e) {
            shutdown();
            throw e instanceof ForwarderException fe ? fe : new ForwarderException(e.getMessage());
        }
    }

    public BindScope scope() {
        return scope;
    }

    public Instant expiresAt() {
        return expiresAt;
    }

    public InetSocketAddress localAddress() {
        return (InetSocketAddress) server.localAddress();
    }

    /** Completes when the forwarder stopped: the forward expired or was revoked, the relay went away, or {@link #close()}. */
    public CompletableFuture<Termination> termination() {
        return termination;
    }

    private void probe() {
        ClientHandshake handshake = new ClientHandshake(hello(Role.CLIENT_PROBE));
        ChannelFuture connecting = dial(group.next(), handshake);
        // Runs on the event loop as the WELCOME arrives, so the watch is in place before any later frame.
        CompletableFuture<Frame.Welcome> watching = handshake.result().thenApply(welcome -> {
            if (welcome.accepted()) {
                watch(connecting.channel(), welcome);
            }
            return welcome;
        });
        Frame.Welcome welcome;
        try {
            welcome = watching.join();
        } catch (CompletionException e) {
            throw new ForwarderException(e.getCause().getMessage());
        }
        if (!welcome.accepted()) {
            throw new ForwarderException("relay refused forward " + config.forward() + ": " + welcome.message());
        }
        scope = welcome.scope();
        expiresAt = welcome.expiresAt();
    }

    /** Watches the forward on the accepted probe connection {@code channel} until the relay ends it or goes away. */
    private void watch(Channel channel, Frame.Welcome welcome) {
        watch = channel;
        Multiplexer mux = new Multiplexer(channel, settings("probe"), welcome.window(), null, (reason, message) -> {
            if (reason == EndReason.CLIENT_CLOSED || reason == EndReason.AGENT_LOST || reason == EndReason.RELAY_SHUTDOWN) {
                relayLost(reason == EndReason.RELAY_SHUTDOWN ? message : "relay connection lost");
            } else {
                stop(reason, message);
            }
        });
        channel.pipeline().addLast(TunnelPipeline.APPLICATION, new MuxHandler(mux));
    }

    /**
     * The relay went away (restarted, upgraded, its pod replaced), not the forward: keep listening and watch the forward
     * again as soon as a relay answers; until then new local connections are refused. The forward's expiry still ends
     * everything on time.
     */
    private void relayLost(String why) {
        if (stopping) {
            return;
        }
        events.accept(why + "; reconnecting to the relay (new connections are refused until then)");
        reprobe(0);
    }

    private void reprobe(int attempt) {
        if (stopping) {
            return;
        }
        long delayMillis = Math.min(RECONNECT_MAX.toMillis(), RECONNECT_FIRST.toMillis() << Math.min(attempt, 5));
        try {
            group.next().schedule(() -> attemptProbe(attempt), delayMillis, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException stopped) {
            // the forwarder is stopping: nothing to reconnect for
        }
    }

    private void attemptProbe(int attempt) {
        if (stopping) {
            return;
        }
        ClientHandshake handshake = new ClientHandshake(hello(Role.CLIENT_PROBE));
        ChannelFuture connecting = dial(group.next(), handshake);
        handshake.result().whenComplete((welcome, error) -> {
            if (stopping) {
                connecting.channel().close();
            } else if (error != null) {
                reprobe(attempt + 1);
            } else if (!welcome.accepted()) {
                stop(welcome.refusal(), "relay refused forward " + config.forward() + ": " + welcome.message());
            } else {
                watch(connecting.channel(), welcome);
                events.accept("reconnected to the relay at " + config.relayHost() + ":" + config.relayPort());
            }
        });
    }

    private void listen() {
        ServerBootstrap bootstrap = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, SocketSplice.RECV_ALLOCATOR)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel local) {
                        SocketSplice splice = new SocketSplice(Forwarder.this::sessionEnded);
                        local.pipeline().addLast(splice, new SessionOpener(splice));
                    }
                });
        try {
            server = bootstrap.bind(config.localAddress(), config.localPort()).syncUninterruptibly().channel();
        } catch (RuntimeException e) {
            throw new ForwarderException("cannot listen on " + config.localAddress().getHostAddress() + ":"
                    + config.localPort() + ": " + e.getMessage());
        }
    }

    /** Opens the relay session for one accepted local connection. */
    private final class SessionOpener extends ChannelInboundHandlerAdapter {
        private final SocketSplice splice;

        SessionOpener(SocketSplice splice) {
            this.splice = splice;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            Channel local = ctx.channel();
            locals.add(local);
            ClientHandshake handshake = new ClientHandshake(hello(Role.CLIENT_SESSION));
            Channel relay = dial(local.eventLoop(), handshake).channel();
            local.closeFuture().addListener(f -> {
                if (!handshake.result().isDone()) {
                    relay.close();
                }
            });
            handshake.result().whenComplete((welcome, error) -> {
                if (error != null || !welcome.accepted()) {
                    String why = error != null ? error.getMessage() : welcome.message();
                    events.accept("session refused: " + why);
                    local.close();
                    return;
                }
                Multiplexer mux = new Multiplexer(relay, settings("session " + welcome.sessionId()), welcome.window(),
                        null, (reason, message) -> { });
                relay.pipeline().addLast(TunnelPipeline.APPLICATION, new MuxHandler(mux));
                Stream stream = mux.adoptStream(Protocol.CLIENT_STREAM_ID, splice);
                splice.attach(stream);
                // GOAWAY, not an empty buffer: through TLS only a real frame's promise waits for the bytes before it.
                stream.closeFuture().whenComplete((reason, e) ->
                        mux.close(EndReason.CLIENT_CLOSED, "session ended"));
            });
            ctx.fireChannelActive();
        }
    }

    private void sessionEnded(EndReason reason, String message, long fromLocal, long toLocal) {
        if (reason != null && reason != EndReason.CANCELLED && reason != EndReason.CLIENT_CLOSED
                && reason != EndReason.TARGET_CLOSED) {
            events.accept("session ended: " + reason + ": " + message);
        }
    }

    private ChannelFuture dial(EventLoop loop, ClientHandshake handshake) {
        return TunnelPipeline.dial(loop, tls, config.relayHost(), config.relayPort(), config.keepAlive(), handshake);
    }

    private Frame.Hello hello(Role role) {
        return new Frame.Hello(Protocol.VERSION, role, config.forward().toString(), "", config.streamWindow());
    }

    private Multiplexer.Settings settings(String what) {
        return new Multiplexer.Settings(config.streamWindow(), 0, what + " forward=" + config.forward(),
                EndReason.AGENT_LOST);
    }

    private void stop(EndReason reason, String message) {
        if (termination.isDone()) {
            return;
        }
        stopping = true; // the probe connection closing now is our own doing, not a relay gone away
        shutdown();
        termination.complete(new Termination(reason, message));
    }

    private void shutdown() {
        if (server != null) {
            server.close();
        }
        // close every local connection now, whatever their streams are doing: a stopping event loop may
        // no longer run the tasks that would close them one by one
        locals.close();
        if (watch != null) {
            watch.close();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    /** Stops listening and ends every session. */
    @Override
    public void close() {
        stop(EndReason.CLIENT_CLOSED, "closed");
        group.terminationFuture().syncUninterruptibly();
    }

    private String relay() {
        return config.relayHost() + ":" + config.relayPort();
    }
}
