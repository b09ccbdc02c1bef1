package dev.porthole.cli;

import dev.porthole.protocol.BindScope;
import dev.porthole.protocol.ClientHandshake;
import dev.porthole.protocol.DataPreamble;
import dev.porthole.protocol.SessionHandshake;
import dev.porthole.protocol.pki.KeyMaterial;
import dev.porthole.protocol.tls.ForwardPeerTrust;
import java.time.Clock;
import dev.porthole.protocol.EndReason;
import dev.porthole.protocol.Frame;
import dev.porthole.protocol.MuxHandler;
import dev.porthole.protocol.Multiplexer;
import dev.porthole.protocol.Protocol;
import dev.porthole.protocol.RelayAddress;
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
 * The client end of a forward: opens a control connection to the relay (mutual TLS), which says whether this
 * certificate may use the forward and its bind scope and expiry; refuses a bind address the scope does not allow;
 * then listens, and for every accepted connection asks the relay for a session on the control connection, dials the
 * session's data connection and runs an end-to-end TLS handshake with the forward's agent through it: the relay
 * carries the session's bytes without being able to read them. The control connection stays open: when the relay
 * says the forward expired or was revoked, or the expiry passes, the forwarder stops and {@link #termination()} says
 * why. When the relay itself goes away (a restart, an upgrade), the forwarder keeps listening (and its running
 * sessions go on) and watches the forward again once a relay answers.
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
    private SslContext sessionTls;
    private Channel server;
    private volatile Channel watch;
    /** Index in the config's relays of the one the control connection reached: sessions dial it too. */
    private volatile int relayIndex;
    private volatile SessionRequests control;
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
            KeyMaterial clientKey = config.certificates().clientKey(config.forward());
            tls = TlsContexts.client(config.relayCa(), clientKey);
            String forwardUid = ClientIdentity.fromCertificate(clientKey.certificate()).forwardUid();
            sessionTls = TlsContexts.sessionClient(clientKey,
                    ForwardPeerTrust.agentOf(config.relayCa(), config.forward(), forwardUid, Clock.systemUTC()));
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

    /** Asks the relays, in turn until one answers, whether this certificate may use the forward. */
    private void probe() {
        Frame.Welcome welcome = null;
        for (int index = 0; welcome == null; index++) {
            int tried = index;
            ClientHandshake handshake = new ClientHandshake(hello(Role.CLIENT));
            ChannelFuture connecting = dial(group.next(), tried, handshake);
            // Runs on the event loop as the WELCOME arrives, so the watch is in place before any later frame.
            CompletableFuture<Frame.Welcome> watching = handshake.result().thenApply(answer -> {
                if (answer.accepted()) {
                    watch(connecting.channel(), answer, tried);
                }
                return answer;
            });
            try {
                welcome = watching.join();
            } catch (CompletionException e) {
                if (index == config.relays().size() - 1) {
                    throw new ForwarderException(e.getCause().getMessage());
                }
            }
        }
        if (!welcome.accepted()) {
            throw new ForwarderException("relay refused forward " + config.forward() + ": " + welcome.message());
        }
        scope = welcome.scope();
        expiresAt = welcome.expiresAt();
    }

    /** Watches the forward on the accepted probe connection {@code channel} until the relay ends it or goes away. */
    private void watch(Channel channel, Frame.Welcome welcome, int index) {
        watch = channel;
        relayIndex = index;
        SessionRequests requests = new SessionRequests(channel.eventLoop());
        Multiplexer mux = new Multiplexer(channel, settings("control"), welcome.window(), null, (reason, message) -> {
            requests.controlClosed();
            if (reason == EndReason.CLIENT_CLOSED || reason == EndReason.AGENT_LOST || reason == EndReason.RELAY_SHUTDOWN) {
                relayLost(reason == EndReason.RELAY_SHUTDOWN ? message : "relay connection lost");
            } else {
                stop(reason, message);
            }
        }, requests::onControl);
        requests.attach(mux);
        control = requests;
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
        // the relay that went away first: another one (of several) is tried first
        int index = (relayIndex + 1 + attempt) % config.relays().size();
        ClientHandshake handshake = new ClientHandshake(hello(Role.CLIENT));
        ChannelFuture connecting = dial(group.next(), index, handshake);
        handshake.result().whenComplete((welcome, error) -> {
            if (stopping) {
                connecting.channel().close();
            } else if (error != null) {
                reprobe(attempt + 1);
            } else if (!welcome.accepted()) {
                stop(welcome.refusal(), "relay refused forward " + config.forward() + ": " + welcome.message());
            } else {
                watch(connecting.channel(), welcome, index);
                events.accept("reconnected to the relay at " + relay());
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
            SessionRequests requests = control;
            if (requests == null || !requests.isOpen()) {
                events.accept("session refused: not connected to the relay (reconnecting)");
                local.close();
            } else {
                requests.request(local, splice);
            }
            ctx.fireChannelActive();
        }
    }

    /**
     * The sessions asked for on one control connection, by request id: each is granted or refused by the relay; a
     * granted one dials its data connection and runs the end-to-end TLS handshake with the agent through it. Runs on
     * the control connection's event loop; a session's own connections run on its local connection's.
     */
    private final class SessionRequests {
        private final EventLoop loop;
        private final java.util.Map<Integer, Pending> pending = new java.util.concurrent.ConcurrentHashMap<>();
        private Multiplexer mux;
        private int nextId = 1;

        /** {@code told}: the relay said how the session ended, so its data connection closing says nothing more. */
        private record Pending(Channel local, SocketSplice splice, Channel[] data, boolean[] told) {
        }

        SessionRequests(EventLoop loop) {
            this.loop = loop;
        }

        void attach(Multiplexer mux) {
            this.mux = mux;
        }

        boolean isOpen() {
            return mux != null && mux.isOpen();
        }

        void request(Channel local, SocketSplice splice) {
            loop.execute(() -> {
                int id = nextId;
                nextId += 2;
                pending.put(id, new Pending(local, splice, new Channel[1], new boolean[1]));
                local.closeFuture().addListener(f -> loop.execute(() -> cancel(id)));
                mux.sendControl(new Frame.Session(id));
            });
        }

        /** The local connection closed: a session not yet set up is cancelled at the relay. */
        private void cancel(int id) {
            Pending p = pending.get(id);
            if (p != null && p.data()[0] == null) {
                pending.remove(id);
                mux.sendControl(new Frame.Reset(id, EndReason.CANCELLED, "client closed the connection"));
            }
        }

        void onControl(Frame frame) {
            if (frame instanceof Frame.Grant grant) {
                Pending p = pending.get(grant.streamId());
                if (p == null) {
                    return; // cancelled meanwhile; the relay heard so
                }
                p.local().eventLoop().execute(() -> open(grant, p));
            } else if (frame instanceof Frame.Reset reset) {
                Pending p = pending.remove(reset.streamId());
                if (p == null) {
                    return;
                }
                boolean started = p.data()[0] != null;
                p.told()[0] = true;
                events.accept((started ? "session ended: " + reset.reason() + ": " : "session refused: ") + reset.message());
                p.local().close();
                if (started) {
                    p.data()[0].close();
                }
            } else {
                throw new dev.porthole.protocol.ProtocolException("the relay sends clients no "
                        + frame.getClass().getSimpleName());
            }
        }

        /** On the local connection's event loop: the session's data connection and end-to-end handshake. */
        private void open(Frame.Grant grant, Pending p) {
            Channel local = p.local();
            if (!local.isActive()) {
                return; // cancel() tells the relay
            }
            SessionHandshake handshake = new SessionHandshake("the agent");
            RelayAddress relay = config.relays().get(relayIndex);
            Channel data = TunnelPipeline.dialData(local.eventLoop(),
                    InetSocketAddress.createUnresolved(relay.host(), relay.port()), DataPreamble.client(grant.pass()),
                    sessionTls, config.keepAlive(), handshake).channel();
            p.data()[0] = data;
            local.closeFuture().addListener(f -> {
                if (!handshake.result().isDone()) {
                    data.close();
                }
            });
            data.closeFuture().addListener(f -> pending.remove(grant.streamId(), p));
            handshake.result().whenComplete((agentCertificate, error) -> {
                if (error != null) {
                    if (!p.told()[0]) {
                        events.accept("session refused: " + error.getMessage());
                    }
                    local.close();
                    data.close();
                    return;
                }
                Multiplexer session = new Multiplexer(data, settings("session " + grant.sessionId()),
                        Protocol.DEFAULT_WINDOW, null, (reason, message) -> { });
                data.pipeline().replace(SessionHandshake.class, TunnelPipeline.APPLICATION, new MuxHandler(session));
                Stream stream = session.adoptStream(Protocol.CLIENT_STREAM_ID, p.splice());
                p.splice().attach(stream);
                // GOAWAY, not an empty buffer: through TLS only a real frame's promise waits for the bytes before it.
                stream.closeFuture().whenComplete((reason, e) -> session.close(EndReason.CLIENT_CLOSED, "session ended"));
            });
        }

        /** The control connection closed: sessions being set up are refused; those running go on. */
        void controlClosed() {
            for (java.util.Map.Entry<Integer, Pending> entry : pending.entrySet()) {
                if (entry.getValue().data()[0] == null) {
                    pending.remove(entry.getKey());
                    entry.getValue().local().close();
                }
            }
        }
    }

    private void sessionEnded(EndReason reason, String message, long fromLocal, long toLocal) {
        if (reason != null && reason != EndReason.CANCELLED && reason != EndReason.CLIENT_CLOSED
                && reason != EndReason.TARGET_CLOSED) {
            events.accept("session ended: " + reason + ": " + message);
        }
    }

    private ChannelFuture dial(EventLoop loop, int index, ClientHandshake handshake) {
        RelayAddress relay = config.relays().get(index);
        return TunnelPipeline.dial(loop, tls, relay.host(), relay.port(), config.keepAlive(), handshake);
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

    /** The relay address the control connection reached (of the configured ones). */
    public String relay() {
        return config.relays().get(relayIndex).toString();
    }
}
