package dev.porthole.relay;

import dev.porthole.protocol.ForwardRef;
import dev.porthole.protocol.EndReason;
import dev.porthole.protocol.Multiplexer;
import dev.porthole.protocol.Protocol;
import dev.porthole.protocol.TunnelPipeline;
import dev.porthole.protocol.pki.KeyMaterial;
import dev.porthole.protocol.tls.TlsContexts;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.SslContext;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Porthole relay: an agent listener and a client listener (and optionally an external client listener), each
 * taking control connections (TLS; agents authenticate with their token, clients with a certificate of the Porthole
 * CA) and data connections (a session's preamble, then end-to-end TLS between client and agent that the relay does
 * not terminate). A client asks for sessions on its control connection; each is checked (certificate forward and
 * validity, then the {@link SessionAuthorizer}), recorded, and granted: client and agent each dial a data connection
 * with the session's ticket, and the relay splices the two. It holds no key of either end. Runs in the operator's
 * process or standalone ({@link RelayMain}).
 *
 * <pre>{@code
 * RelayServer relay = RelayServer.builder()
 *         .bindAddress("0.0.0.0").agentPort(7443).clientPort(7444)
 *         .serverKey(relayKeyMaterial).clientCa(caCertificate)
 *         .agentAuthenticator((forward, token) -> tokens.matches(forward, token))
 *         .sessionAuthorizer((identity, forward, address) -> policy.decide(identity, forward))
 *         .sessionListener(audit).agentListener(audit)
 *         .build().start();
 * relay.closeForward("shop/orders-db", EndReason.REVOKED);
 * }</pre>
 */
public final class RelayServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RelayServer.class);

    private final Builder settings;
    private final RelayContext relay;
    private final EventLoopGroup bossGroup;
    private final EventLoopGroup workerGroup;
    private Channel agentChannel;
    private Channel clientChannel;
    private Channel externalClientChannel;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    private RelayServer(Builder builder) {
        this.settings = builder;
        ExecutorService hooks = new ThreadPoolExecutor(1, builder.hookThreads, 30, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(1024), daemon("porthole-relay-hook"));
        ExecutorService listeners = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(100_000), daemon("porthole-relay-listener"));
        this.relay = new RelayContext(builder, hooks, listeners);
        this.bossGroup = TunnelPipeline.eventLoops(1, "porthole-relay-accept");
        this.workerGroup = TunnelPipeline.eventLoops(builder.workerThreads, "porthole-relay-io");
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Binds the listeners; returns once they accept connections. */
    public RelayServer start() {
        SslContext agentTls = TlsContexts.server(settings.serverKey);
        SslContext clientTls = TlsContexts.serverRequiringClientCertificate(settings.serverKey, settings.clientCa);
        try {
            agentChannel = bind(settings.agentPort, relay.agentHandshakes, ch -> new ListenerSniffer(relay, "agent",
                    agentTls, () -> new AgentAdmission(relay), () -> new DataAdmission(relay, true, false)));
            clientChannel = bind(settings.clientPort, relay.clientHandshakes, ch -> new ListenerSniffer(relay, "client",
                    clientTls, () -> new ClientAdmission(relay), () -> new DataAdmission(relay, false, false)));
            if (settings.externalClientPort >= 0) {
                externalClientChannel = bind(settings.externalClientPort, relay.externalHandshakes, ch -> {
                    if (settings.externalClientAddresses == ClientAddresses.PROXY_PROTOCOL) {
                        ProxyProtocol.install(ch);
                    }
                    return new ListenerSniffer(relay, "external client", clientTls, () -> new ClientAdmission(relay, true),
                            () -> new DataAdmission(relay, false, true));
                });
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        LOG.atInfo().addKeyValue("agentListener", agentAddress()).addKeyValue("clientListener", clientAddress())
                .addKeyValue("tls", TlsContexts.provider()).log("relay started");
        return this;
    }

    /**
     * Binds one listener. Each accepted connection takes a place in {@code budget} (or is closed at once), then
     * {@code sniffer} tells a control connection (TLS) from a data connection (a session's preamble).
     */
    private Channel bind(int port, HandshakeBudget budget, Function<SocketChannel, ChannelHandler> sniffer) {
        ServerBootstrap bootstrap = new ServerBootstrap().group(bossGroup, workerGroup)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, TunnelPipeline.WATER_MARK)
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, TunnelPipeline.RECV_ALLOCATOR)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        // shed before any TLS work is spent on a connection the budget has no room for
                        if (!budget.enter(ch)) {
                            ch.close();
                            return;
                        }
                        ch.pipeline().addLast("sniffer", sniffer.apply(ch));
                    }
                });
        try {
            return bootstrap.bind(new InetSocketAddress(settings.bindAddress, port)).sync().channel();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while binding", e);
        } catch (Exception e) {
            throw new IllegalStateException("cannot bind relay listener on " + settings.bindAddress.getHostAddress()
                    + ":" + port + ": " + e.getMessage(), e);
        }
    }

    public InetSocketAddress agentAddress() {
        return (InetSocketAddress) agentChannel.localAddress();
    }

    public InetSocketAddress clientAddress() {
        return (InetSocketAddress) clientChannel.localAddress();
    }

    /** The external client listener's address, if the relay has one. */
    public java.util.Optional<InetSocketAddress> externalClientAddress() {
        return java.util.Optional.ofNullable(externalClientChannel).map(c -> (InetSocketAddress) c.localAddress());
    }

    public int agentPort() {
        return agentAddress().getPort();
    }

    public int clientPort() {
        return clientAddress().getPort();
    }

    public boolean isAgentConnected(ForwardRef forward) {
        AgentConnection agent = relay.registry.agent(forward);
        return agent != null && agent.isOpen();
    }

    /**
     * Ends every session of {@code forward} with {@code reason} (clients are told), tells watching clients
     * and closes the forward's agent connection. Returns at once; all is closed well within a second.
     */
    public void closeForward(ForwardRef forward, EndReason reason) {
        closeForward(forward, reason, "forward " + forward + " " + describe(reason));
    }

    public void closeForward(ForwardRef forward, EndReason reason, String message) {
        LOG.atInfo().addKeyValue("forward", forward).addKeyValue("reason", reason).log("closing forward");
        for (ClientSession session : relay.registry.sessions(forward)) {
            session.terminate(reason, message);
        }
        for (Multiplexer watcher : relay.registry.watchers(forward)) {
            watcher.close(reason, message);
        }
        AgentConnection agent = relay.registry.agent(forward);
        if (agent != null) {
            agent.close(reason, message);
        }
    }

    public RelayStats stats() {
        return relay.stats();
    }

    /** Bytes the relay holds for its sessions: what their data connections have queued to write and not yet sent. */
    public CompletableFuture<Long> bufferedBytes() {
        List<CompletableFuture<Long>> parts = new ArrayList<>();
        for (ClientSession session : relay.registry.allSessions()) {
            for (Channel channel : session.dataChannels()) {
                CompletableFuture<Long> part = new CompletableFuture<>();
                channel.eventLoop().execute(() -> {
                    io.netty.channel.ChannelOutboundBuffer queued = channel.unsafe().outboundBuffer();
                    part.complete(queued == null ? 0L : queued.totalPendingWriteBytes());
                });
                parts.add(part);
            }
        }
        return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new))
                .thenApply(v -> parts.stream().mapToLong(CompletableFuture::join).sum());
    }

    /**
     * Stops the relay gently: stops accepting connections, tells watching clients it is going away (they reconnect,
     * through another replica or this relay's successor), lets live sessions run to their end for at most
     * {@code grace}, then {@link #close closes} what is left with RELAY_SHUTDOWN. Agents stay connected meanwhile,
     * since live sessions run through them. Completes when the relay is closed.
     */
    public CompletableFuture<Void> drain(Duration grace) {
        if (closed.get()) {
            return CompletableFuture.completedFuture(null);
        }
        List<ClientSession> live = relay.registry.allSessions();
        LOG.atInfo().addKeyValue("sessions", live.size()).addKeyValue("graceSeconds", grace.toSeconds())
                .log("relay draining: no new connections; live sessions may finish");
        closeListeners();
        for (Multiplexer watcher : relay.registry.allWatchers()) {
            watcher.close(EndReason.RELAY_SHUTDOWN, "relay is shutting down; reconnect to reach the forward");
        }
        CompletableFuture<?>[] ends = live.stream().map(ClientSession::ended).toArray(CompletableFuture[]::new);
        return CompletableFuture.allOf(ends).completeOnTimeout(null, grace.toMillis(), TimeUnit.MILLISECONDS)
                .thenRunAsync(this::close);
    }

    /** Stops accepting: closes every listener (connections already accepted go on). */
    private void closeListeners() {
        for (Channel listener : new Channel[] {agentChannel, clientChannel, externalClientChannel}) {
            if (listener != null) {
                listener.close().syncUninterruptibly();
            }
        }
    }

    /** Ends every session, probe and agent connection with RELAY_SHUTDOWN and releases the listeners. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        List<Channel> ending = new ArrayList<>();
        for (ClientSession session : relay.registry.allSessions()) {
            session.terminate(EndReason.RELAY_SHUTDOWN, "relay is shutting down");
        }
        for (Multiplexer watcher : relay.registry.allWatchers()) {
            ending.add(watcher.channel());
            watcher.close(EndReason.RELAY_SHUTDOWN, "relay is shutting down");
        }
        for (AgentConnection agent : relay.registry.agents()) {
            Multiplexer mux = agent.mux();
            if (mux != null) {
                ending.add(mux.channel());
            }
            agent.close(EndReason.RELAY_SHUTDOWN, "relay is shutting down");
        }
        awaitPeersGone(ending);
        closeListeners();
        bossGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        workerGroup.shutdownGracefully(100, 2000, TimeUnit.MILLISECONDS).syncUninterruptibly();
        relay.hookExecutor.shutdown();
        relay.listenerExecutor.shutdown();
        try {
            relay.listenerExecutor.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LOG.atInfo().log("relay stopped");
    }

    /**
     * Gives every peer the chance to read its GOAWAY (or RESET) and close first: shutting the event loops down
     * at once could turn the closes into TCP resets that destroy those frames unread, and a client would then
     * report a lost connection instead of a relay shutdown. Bounded by the connections' own close grace.
     */
    private static void awaitPeersGone(List<Channel> channels) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1500);
        for (Channel channel : channels) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return;
            }
            if (!channel.eventLoop().inEventLoop()) { // waiting on its own loop would deadlock
                channel.closeFuture().awaitUninterruptibly(left, TimeUnit.NANOSECONDS);
            }
        }
    }

    private static String describe(EndReason reason) {
        return switch (reason) {
            case EXPIRED -> "expired";
            case REVOKED -> "was revoked";
            case REJECTED -> "was rejected";
            case RELAY_SHUTDOWN -> "closed: relay shutting down";
            default -> "closed: " + reason;
        };
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return runnable -> {
            Thread thread = new Thread(runnable, name);
            thread.setDaemon(true);
            return thread;
        };
    }

    /** Configures a {@link RelayServer}. Server key, client CA and both hooks are required. */
    public static final class Builder {
        InetAddress bindAddress = InetAddress.getLoopbackAddress();
        int agentPort;
        int clientPort;
        KeyMaterial serverKey;
        X509Certificate clientCa;
        AgentAuthenticator authenticator;
        SessionAuthorizer authorizer;
        SessionListener sessionListener = new SessionListener() { };
        AgentListener agentListener = new AgentListener() { };
        Clock clock = Clock.systemUTC();
        Duration keepAlive = Duration.ofSeconds(15);
        Duration handshakeTimeout = Duration.ofSeconds(10);
        int streamWindow = Protocol.DEFAULT_WINDOW;
        int maxStreamsPerAgent = 1024;
        int workerThreads = Math.max(2, Runtime.getRuntime().availableProcessors());
        int hookThreads = 8;
        int externalClientPort = -1;
        ClientAddresses externalClientAddresses = ClientAddresses.PRESERVED;
        int maxPendingHandshakes = 1024;
        int maxPendingHandshakesPerSource = 128;

        private Builder() {
        }

        /** Address both listeners bind; default 127.0.0.1. */
        public Builder bindAddress(String address) {
            try {
                return bindAddress(InetAddress.getByName(address));
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException("unknown bind address " + address, e);
            }
        }

        public Builder bindAddress(InetAddress address) {
            this.bindAddress = Objects.requireNonNull(address);
            return this;
        }

        /** Agent listener port; 0 (default) picks a free one, see {@link #agentPort()}. */
        public Builder agentPort(int port) {
            this.agentPort = port;
            return this;
        }

        /** Client listener port; 0 (default) picks a free one, see {@link #clientPort()}. */
        public Builder clientPort(int port) {
            this.clientPort = port;
            return this;
        }

        /** The relay's serving key and certificate chain (SANs must match the names agents and clients dial). */
        public Builder serverKey(KeyMaterial serverKey) {
            this.serverKey = serverKey;
            return this;
        }

        /** The CA that issues client certificates. */
        public Builder clientCa(X509Certificate clientCa) {
            this.clientCa = clientCa;
            return this;
        }

        public Builder agentAuthenticator(AgentAuthenticator authenticator) {
            this.authenticator = authenticator;
            return this;
        }

        public Builder sessionAuthorizer(SessionAuthorizer authorizer) {
            this.authorizer = authorizer;
            return this;
        }

        public Builder sessionListener(SessionListener listener) {
            this.sessionListener = listener;
            return this;
        }

        public Builder agentListener(AgentListener listener) {
            this.agentListener = listener;
            return this;
        }

        /** Time source for certificate validity and session expiry. */
        public Builder clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        /** Idle time after which a connection is pinged; twice this without a read and it is closed. Default 15 s. */
        public Builder keepAlive(Duration keepAlive) {
            this.keepAlive = keepAlive;
            return this;
        }

        /**
         * How many connections each listener lets wait for admission (TLS handshake, HELLO, the authorizer's answer) at
         * once, in all and from one source address: a source's next is closed at accept; beyond the total, a newcomer closes the
         * oldest waiting connection. Both are counted. Defaults 1024 and 128 (clients behind one NAT or load balancer
         * share a source address).
         */
        public Builder maxPendingHandshakes(int total, int perSource) {
            this.maxPendingHandshakes = total;
            this.maxPendingHandshakesPerSource = perSource;
            return this;
        }

        /**
         * Adds the external client listener on {@code port} (0 picks a free one): the one a load balancer or Ingress
         * forwards to. The relay cannot vouch that a client reaching it there runs inside the cluster, so it refuses
         * it for forwards of bind scope Cluster. Default: none.
         */
        public Builder externalClientPort(int port) {
            this.externalClientPort = port;
            return this;
        }

        /** What the external client listener knows of client addresses. Default {@link ClientAddresses#PRESERVED}. */
        public Builder externalClientAddresses(ClientAddresses addresses) {
            this.externalClientAddresses = addresses;
            return this;
        }

        /** How long a new connection may take to send its HELLO. Default 10 s. */
        public Builder handshakeTimeout(Duration timeout) {
            this.handshakeTimeout = timeout;
            return this;
        }

        /** Per-stream receive window the relay announces. Default 512 KiB. */
        public Builder streamWindow(int bytes) {
            this.streamWindow = bytes;
            return this;
        }

        public Builder maxStreamsPerAgent(int streams) {
            this.maxStreamsPerAgent = streams;
            return this;
        }

        public Builder workerThreads(int threads) {
            this.workerThreads = threads;
            return this;
        }

        public RelayServer build() {
            Objects.requireNonNull(serverKey, "serverKey");
            Objects.requireNonNull(clientCa, "clientCa");
            Objects.requireNonNull(authenticator, "agentAuthenticator");
            Objects.requireNonNull(authorizer, "sessionAuthorizer");
            return new RelayServer(this);
        }
    }
}
