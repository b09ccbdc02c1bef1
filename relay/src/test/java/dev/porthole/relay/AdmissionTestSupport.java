package dev.porthole.relay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.pki.CertificateAuthority;
import dev.porthole.protocol.BindScope;
import dev.porthole.protocol.DataPreamble;
import dev.porthole.protocol.DataRefusal;
import dev.porthole.protocol.ForwardRef;
import dev.porthole.protocol.Frame;
import dev.porthole.protocol.FrameDecoder;
import dev.porthole.protocol.FrameEncoder;
import dev.porthole.protocol.Protocol;
import dev.porthole.protocol.Role;
import dev.porthole.protocol.SessionTicket;
import dev.porthole.protocol.TunnelPipeline;
import dev.porthole.protocol.pki.ClientIdentity;
import dev.porthole.protocol.pki.KeyMaterial;
import dev.porthole.protocol.tls.TlsContexts;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.MockTicker;
import io.netty.util.concurrent.Ticker;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;

/**
 * What {@link AdmissionChannelTest} and {@link DataAdmissionChannelTest} share: a relay context whose hooks and
 * listeners run inline and record what they were called with, the forwards they decide, and connections to the
 * relay's listeners on Netty's {@link EmbeddedChannel}: no sockets, no threads, no waiting. The event loops' clocks
 * stand still unless a test moves them, so every outcome is known when the write returns.
 *
 * <p>Connections come in three kinds. {@link #tls} is the listener's real pipeline, as {@link RelayServer} builds it:
 * the {@link ListenerSniffer} first, then TLS from the listener's context (the relay's and the CLI's own TLS contexts,
 * their bytes passed between two embedded channels) and the admission. {@link #plain} is the pipeline the sniffer puts
 * in place for a control connection, minus TLS, installed directly. {@link #raw} is the real sniffer again, with a peer
 * that writes and reads plain bytes: a data connection, or a stray. Each goes to {@link #relay}, or to another replica
 * of the same relay ({@link #replica()}), whose own state it then meets.
 *
 * <p>A session starts as a grant on a client's control connection ({@link #granted()}: a sealed pass, nothing else)
 * and opens where the client's data connection presents that pass ({@link #open}: recorded, the agent told to dial).
 */
abstract class AdmissionTestSupport {

    static final CertificateAuthority CA = CertificateAuthority.create("admission-test-ca", Duration.ofDays(1));
    static final KeyMaterial RELAY_KEY = CA.issueServerCertificate("porthole-relay", List.of("localhost"),
            Duration.ofDays(1));
    /** The client listener's TLS, as {@link RelayServer#start()} builds it. */
    static final SslContext CLIENT_LISTENER_TLS = TlsContexts.serverRequiringClientCertificate(RELAY_KEY,
            CA.certificate());
    /** The agent listener's TLS: server authentication only. */
    static final SslContext AGENT_LISTENER_TLS = TlsContexts.server(RELAY_KEY);
    static final InetSocketAddress PEER = new InetSocketAddress("192.0.2.10", 50123);
    static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);
    static final Duration KEEP_ALIVE = Duration.ofSeconds(15);

    static final Instant NOW = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    /** Served, Active, alice is in its audience. */
    static final String DB = "shop/db";
    static final String DB_UID = "uid-db";
    static final String DB_TOKEN = "db-t0ken";
    static final Instant DB_EXPIRY = NOW.plus(Duration.ofHours(2));
    /** Served, Active: the bystander agent's forward. */
    static final String CACHE = "shop/cache";
    static final String CACHE_UID = "uid-cache";
    static final String CACHE_TOKEN = "cache-t0ken";
    /** Served, expired a minute ago. */
    static final String OLD = "shop/old";
    static final String OLD_UID = "uid-old";
    static final String OLD_TOKEN = "old-t0ken";
    static final Instant OLD_EXPIRY = NOW.minus(Duration.ofMinutes(1));
    /** Exists but is Pending (not Active): decided by the shared {@link ForwardAccess} rule. */
    static final String PENDING = "shop/pending";
    static final String PENDING_UID = "uid-pending";
    /** Its authorizer and authenticator fail. */
    static final String BROKEN = "shop/broken";
    static final String BROKEN_UID = "uid-broken";

    static final KeyMaterial ALICE_DB = clientKey("alice", DB, DB_UID, NOW.plus(Duration.ofHours(1)));

    static final int HELLO_TYPE = 0x01;

    private final StaticForwards forwards = new StaticForwards(Map.of(
            ref(DB), new StaticForwards.Forward(DB_TOKEN, DB_UID, List.of("alice"), List.of(), BindScope.LOOPBACK, DB_EXPIRY),
            ref(CACHE), new StaticForwards.Forward(CACHE_TOKEN, CACHE_UID, List.of("alice"), List.of(), BindScope.LOOPBACK,
                    DB_EXPIRY),
            ref(OLD), new StaticForwards.Forward(OLD_TOKEN, OLD_UID, List.of("alice"), List.of(), BindScope.LOOPBACK,
                    OLD_EXPIRY)), Clock.systemUTC());
    final AtomicInteger authenticatorCalls = new AtomicInteger();
    final AtomicInteger authorizerCalls = new AtomicInteger();
    final List<SessionListener.Denied> denials = new CopyOnWriteArrayList<>();
    final List<SessionListener.Opened> openings = new CopyOnWriteArrayList<>();
    final List<SessionListener.Closed> closings = new CopyOnWriteArrayList<>();
    final List<String> agentRejections = new CopyOnWriteArrayList<>();
    /** When set, {@link SessionListener#opened} throws it: the audit trail is unavailable. */
    volatile RuntimeException auditFailure;
    /** When set, {@link SessionListener#opened} runs it once the opening is recorded. */
    volatile Runnable whileRecording;
    /** The session limit the authorizer's allowing decisions carry (0: none). */
    volatile int maxSessions;
    /** When set, the authorizer's answer to every request, whatever the forward. */
    volatile Decision policy;
    /** When set, the authorizer throws it for every request: the policy store is unavailable. */
    volatile RuntimeException policyFailure;
    /** When set, the authorizer runs it before it answers (what happens while a decision is awaited). */
    volatile Runnable whileAuthorizing;
    private final List<Connection> connections = new ArrayList<>();
    /** The relay's clock (certificate validity, pass expiry): it stands still unless a test moves it. */
    final MovableClock clock = new MovableClock(NOW);
    /** The relay replica the tests talk to unless they name another ({@link #replica()}). */
    final RelayContext relay = replica();

    /**
     * A relay replica as {@link RelayServer} builds one: this test's hooks and listeners (one audit trail for all
     * replicas, as the operator keeps it) and the relay's serving key, from which every replica derives the same
     * {@link PassSeal}. Replicas share nothing else: each has its own agents, sessions, tickets and spent passes.
     */
    RelayContext replica() {
        return replica(RELAY_KEY);
    }

    /** As {@link #replica()}, serving with {@code serverKey}: with another key, another relay's replica. */
    RelayContext replica(KeyMaterial serverKey) {
        return new RelayContext(RelayServer.builder()
                .serverKey(serverKey)
                .clientCa(CA.certificate())
                .clock(clock)
                .handshakeTimeout(HANDSHAKE_TIMEOUT)
                .keepAlive(KEEP_ALIVE)
                .agentAuthenticator(this::authenticate)
                .sessionAuthorizer(this::authorize)
                .sessionListener(new SessionListener() {
                    @Override
                    public void opened(Opened session) {
                        RuntimeException failure = auditFailure;
                        if (failure != null) {
                            throw failure;
                        }
                        openings.add(session);
                        Runnable then = whileRecording;
                        if (then != null) {
                            then.run();
                        }
                    }

                    @Override
                    public void closed(Closed session) {
                        closings.add(session);
                    }

                    @Override
                    public void denied(Denied denial) {
                        denials.add(denial);
                    }
                })
                .agentListener(new AgentListener() {
                    @Override
                    public void rejected(ForwardRef forward, InetSocketAddress remoteAddress, String reason) {
                        agentRejections.add(forward + ": " + reason);
                    }
                }), new InlineExecutor(), new InlineExecutor());
    }

    @AfterEach
    void releaseChannels() {
        connections.forEach(Connection::release);
    }

    // hooks

    private boolean authenticate(ForwardRef forward, String token) {
        authenticatorCalls.incrementAndGet();
        if (forward.equals(ref(BROKEN))) {
            throw new IllegalStateException("token store unavailable");
        }
        return forwards.authenticate(forward, token);
    }

    private Decision authorize(ClientIdentity identity, ForwardRef forward, InetSocketAddress address) {
        authorizerCalls.incrementAndGet();
        if (forward.equals(ref(BROKEN))) {
            throw new IllegalStateException("policy store unavailable");
        }
        Runnable meanwhile = whileAuthorizing;
        if (meanwhile != null) {
            meanwhile.run();
        }
        RuntimeException failure = policyFailure;
        if (failure != null) {
            throw failure;
        }
        Decision fixed = policy;
        if (fixed != null) {
            return fixed;
        }
        if (forward.equals(ref(PENDING))) {
            ForwardAccess.Forward pending = new ForwardAccess.Forward(PENDING_UID, DB_EXPIRY, false,
                    Optional.of("Pending"), (user, groups) -> user.equals("alice"));
            return ForwardAccess.refusal(ref(PENDING), pending, ForwardAccess.Requester.withCertificate(identity.username(),
                    identity.groups(), identity.forwardUid()), NOW).map(Decision::deny)
                    .orElse(Decision.allow(BindScope.LOOPBACK, DB_EXPIRY));
        }
        Decision decision = forwards.authorize(identity, forward, address);
        int limit = maxSessions;
        return decision.allowed() && limit > 0 ? Decision.allow(decision.scope(), decision.expiresAt(), limit) : decision;
    }

    /** The counters as {@link RelayServer#stats()} reports them. */
    RelayStats stats() {
        return relay.stats();
    }

    // frames and bytes

    static KeyMaterial clientKey(String user, String forward, String uid, Instant notAfter) {
        KeyPair keys = CertificateAuthority.generateKeyPair();
        return new KeyMaterial(keys.getPrivate(), List.of(CA.issueClientCertificate(keys.getPublic(),
                new ClientIdentity(user, List.of("sre"), ref(forward), uid, notAfter))));
    }

    /** The typed form of a forward the tests name as it travels on the wire. */
    static ForwardRef ref(String forward) {
        return ForwardRef.parse(forward);
    }

    static Frame.Hello agentHello(String forward, String token) {
        return new Frame.Hello(Protocol.VERSION, Role.AGENT, forward, token, Protocol.DEFAULT_WINDOW);
    }

    static Frame.Hello clientHello(Role role, String forward) {
        return new Frame.Hello(Protocol.VERSION, role, forward, "", Protocol.DEFAULT_WINDOW);
    }

    /** A frame header: {@code length:u32 | type:u8 | stream:u32} on stream 0. */
    static byte[] header(long length, int type) {
        ByteBuf buf = Unpooled.buffer(Protocol.HEADER_LENGTH);
        buf.writeInt((int) length).writeByte(type).writeInt(0);
        return bytes(buf);
    }

    static ByteBuf encode(Frame frame) {
        ByteBuf buf = Unpooled.buffer();
        FrameEncoder.encodeControl(frame, buf);
        return buf;
    }

    /** A data connection's preamble, as client and agent write it. */
    static byte[] preamble(DataPreamble preamble) {
        ByteBuf buf = Unpooled.buffer(preamble.length());
        preamble.writeTo(buf);
        return bytes(buf);
    }

    /** The preamble of a client's data connection: the sealed pass its grant carried. */
    static byte[] clientPreamble(byte[] pass) {
        return preamble(DataPreamble.client(pass));
    }

    /** The preamble of an agent's data connection: the ticket its DIAL carried. */
    static byte[] agentPreamble(SessionTicket ticket) {
        return preamble(DataPreamble.agent(ticket));
    }

    /** All a data connection was told: one {@link DataRefusal}, nothing before or after it. */
    static DataRefusal refusal(RawPeer data) {
        ByteBuf said = Unpooled.wrappedBuffer(data.received());
        try {
            DataRefusal refusal = DataRefusal.read(said);
            assertThat(refusal).as("a whole refusal").isNotNull();
            assertThat(said.readableBytes()).as("nothing after the refusal").isZero();
            return refusal;
        } finally {
            said.release();
        }
    }

    static byte[] bytes(ByteBuf buf) {
        try {
            byte[] bytes = new byte[buf.readableBytes()];
            buf.readBytes(bytes);
            return bytes;
        } finally {
            buf.release();
        }
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] both = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }

    // connections

    /** The two listeners and their first handlers. */
    enum Listener {
        CLIENT, AGENT;

        Admission admission(RelayContext relay) {
            return this == CLIENT ? new ClientAdmission(relay) : new AgentAdmission(relay);
        }

        /** The listener's first handler, as {@link RelayServer#start()} installs it. */
        ListenerSniffer sniffer(RelayContext relay, SslContext tls) {
            return new ListenerSniffer(relay, this == CLIENT ? "client" : "agent", tls, () -> admission(relay),
                    () -> new DataAdmission(relay, this == AGENT, false));
        }

        SslContext tls() {
            return this == CLIENT ? CLIENT_LISTENER_TLS : AGENT_LISTENER_TLS;
        }
    }

    /**
     * A control connection to {@code listener} with the pipeline its sniffer installs, minus TLS, put in place
     * directly; the peer writes frames as bytes.
     */
    Peer plain(Listener listener) {
        return plain(relay, listener);
    }

    /** As {@link #plain(Listener)}, to {@code replica}'s listener. */
    Peer plain(RelayContext replica, Listener listener) {
        Admission admission = listener.admission(replica);
        RelayChannel channel = new RelayChannel(PEER, new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                // TunnelPipeline.server() minus the TLS handler
                ch.pipeline().addLast(TunnelPipeline.IDLE, new IdleStateHandler(KEEP_ALIVE.toMillis(), 0, 0,
                                TimeUnit.MILLISECONDS))
                        .addLast(TunnelPipeline.DECODER, new FrameDecoder())
                        .addLast(TunnelPipeline.ENCODER, FrameEncoder.INSTANCE)
                        .addLast(TunnelPipeline.FLUSHES, new FlushConsolidationHandler(64, true))
                        .addLast(TunnelPipeline.APPLICATION, admission);
            }
        });
        return track(new PlainPeer(channel));
    }

    /**
     * A connection to {@code listener} with its whole pipeline: the sniffer, which sees the TLS record and installs
     * TLS from {@code listenerTls} and the listener's admission; and a peer with the CLI's pipeline and
     * {@code peerTls}. The TLS handshake runs when the peer first sends.
     */
    Peer tls(SslContext listenerTls, Listener listener, SslContext peerTls) {
        return tls(relay, listenerTls, listener, peerTls);
    }

    /** As {@link #tls(SslContext, Listener, SslContext)}, to {@code replica}'s listener. */
    Peer tls(RelayContext replica, SslContext listenerTls, Listener listener, SslContext peerTls) {
        RelayChannel channel = new RelayChannel(PEER, new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast("sniffer", listener.sniffer(replica, listenerTls));
            }
        });
        return track(new TlsPeer(channel, peerTls));
    }

    /** A connection from {@link #PEER} to {@code listener}'s real pipeline whose peer sends and reads plain bytes. */
    RawPeer raw(Listener listener) {
        return raw(listener, PEER);
    }

    /** A connection from {@code from} to {@code listener}'s real pipeline whose peer sends and reads plain bytes. */
    RawPeer raw(Listener listener, InetSocketAddress from) {
        return raw(relay, listener, from);
    }

    /** As {@link #raw(Listener, InetSocketAddress)}, to {@code replica}'s listener. */
    RawPeer raw(RelayContext replica, Listener listener, InetSocketAddress from) {
        ListenerSniffer sniffer = listener.sniffer(replica, listener.tls());
        return track(new RawPeer(new RelayChannel(from, new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast("sniffer", sniffer);
            }
        })));
    }

    /** As {@link #raw(Listener, InetSocketAddress)}, to the external client listener (sources preserved). */
    RawPeer rawExternal(InetSocketAddress from) {
        ListenerSniffer sniffer = new ListenerSniffer(relay, "external client", CLIENT_LISTENER_TLS,
                () -> new ClientAdmission(relay, true), () -> new DataAdmission(relay, false, true));
        return track(new RawPeer(new RelayChannel(from, new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast("sniffer", sniffer);
            }
        })));
    }

    private <T extends Connection> T track(T connection) {
        connections.add(connection);
        return connection;
    }

    // sessions

    /** Alice's control connection for {@link #DB} on the client listener, admitted. */
    Peer aliceClient() {
        return aliceClient(relay);
    }

    /** Alice's control connection for {@link #DB} on {@code replica}'s client listener, admitted. */
    Peer aliceClient(RelayContext replica) {
        Peer client = tls(replica, CLIENT_LISTENER_TLS, Listener.CLIENT, TlsContexts.client(CA.certificate(), ALICE_DB))
                .send(clientHello(Role.CLIENT, DB));
        assertThat(client.welcome().accepted()).isTrue();
        return client;
    }

    /** The agent of {@link #DB} on the agent listener, admitted. */
    Peer dbAgent() {
        return dbAgent(relay);
    }

    /** The agent of {@link #DB} on {@code replica}'s agent listener, admitted (an agent links every replica). */
    Peer dbAgent(RelayContext replica) {
        Peer agent = plain(replica, Listener.AGENT).send(agentHello(DB, DB_TOKEN));
        assertThat(agent.welcome().accepted()).isTrue();
        return agent;
    }

    /**
     * A session the relay granted on a client's control connection: the sealed pass the client was given. Nothing
     * else happened yet: no session, no audit record, no DIAL; the replica the pass reaches opens the session.
     */
    record Granted(Peer client, Peer agent, Frame.Grant grant) {
        byte[] pass() {
            return grant.pass();
        }

        String sessionId() {
            return grant.sessionId();
        }
    }

    /** The agent of {@link #DB} and alice's control connection, admitted, and session 1 requested and granted. */
    Granted granted() {
        Peer agent = dbAgent();
        Peer client = aliceClient();
        return grant(client, agent, 1);
    }

    /** Asks for session {@code requestId} on {@code client}'s control connection: granted, and no DIAL yet. */
    static Granted grant(Peer client, Peer agent, int requestId) {
        client.send(new Frame.Session(requestId));
        List<Frame> toClient = client.fresh();
        assertThat(toClient).singleElement().isInstanceOf(Frame.Grant.class);
        assertThat(((Frame.Grant) toClient.get(0)).streamId()).isEqualTo(requestId);
        assertThat(agent.fresh()).as("no DIAL before a data connection presents the pass").isEmpty();
        return new Granted(client, agent, (Frame.Grant) toClient.get(0));
    }

    /**
     * A session opened from its pass: the client's data connection presented it (and what the client sent after
     * it waits there), the opening was recorded, and the agent was told to dial with a fresh ticket.
     */
    record Opened(Peer client, Peer agent, Frame.Grant grant, RawPeer data, Frame.Dial dial) {
        SessionTicket ticket() {
            return dial.ticket();
        }

        String sessionId() {
            return grant.sessionId();
        }
    }

    /** Session 1 granted and opened on this replica; {@code clientSends} follow the client's preamble. */
    Opened opened(byte[]... clientSends) {
        return open(granted(), clientSends);
    }

    /** Opens {@code granted} with a client data connection to this replica from {@link #PEER}. */
    Opened open(Granted granted, byte[]... clientSends) {
        return open(granted, raw(Listener.CLIENT), granted.agent(), clientSends);
    }

    /**
     * Opens {@code granted} on whichever replica {@code data} reached: it presents the pass, then {@code clientSends};
     * {@code agent}, that replica's agent connection, is told to dial.
     */
    static Opened open(Granted granted, RawPeer data, Peer agent, byte[]... clientSends) {
        byte[][] parts = new byte[clientSends.length + 1][];
        parts[0] = clientPreamble(granted.pass());
        System.arraycopy(clientSends, 0, parts, 1, clientSends.length);
        data.send(parts);
        assertThat(data.closedByRelay()).as("the pass opened a session").isFalse();
        List<Frame> toAgent = agent.fresh();
        assertThat(toAgent).singleElement().isInstanceOf(Frame.Dial.class);
        Frame.Dial dial = (Frame.Dial) toAgent.get(0);
        assertThat(dial.sessionId()).isEqualTo(granted.sessionId());
        return new Opened(granted.client(), agent, granted.grant(), data, dial);
    }

    /** A relay clock that moves only when told. */
    static final class MovableClock extends Clock {
        private volatile Instant now;

        MovableClock(Instant start) {
            this.now = start;
        }

        void advance(Duration by) {
            now = now.plus(by);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public java.time.ZoneId getZone() {
            return java.time.ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            throw new UnsupportedOperationException();
        }
    }

    /**
     * The relay's side of a connection: a remote address like a socket's, and an event loop with a clock that moves
     * only when told. The event loop is another embedded channel's, which stays open until the test ends: a real event
     * loop outlives the connections it serves, and timers a closing connection leaves on it (a session's grace for the
     * agent's report, say) still run; an embedded channel's own loop would drop them when it closes.
     */
    static final class RelayChannel extends EmbeddedChannel {
        final MockTicker clock;
        private final EmbeddedChannel loop;
        private final InetSocketAddress remote;

        RelayChannel(InetSocketAddress remote, ChannelInitializer<Channel> initializer) {
            this(remote, initializer, Ticker.newMockTicker());
        }

        private RelayChannel(InetSocketAddress remote, ChannelInitializer<Channel> initializer, MockTicker clock) {
            super(EmbeddedChannel.builder().handlers(initializer).register(false));
            this.clock = clock;
            this.remote = remote;
            this.loop = EmbeddedChannel.builder().ticker(clock).build();
            loop.eventLoop().register(this).syncUninterruptibly();
        }

        @Override
        protected SocketAddress remoteAddress0() {
            return remote;
        }

        /** Runs what is due on the event loop this connection is on (or, once it closed, was on first). */
        void runLoop() {
            if (isRegistered()) {
                runPendingTasks();
            } else {
                loop.runPendingTasks();
            }
        }

        /** Runs the timers due on that event loop; the next one's time, or -1 if none is left. */
        long runLoopTimers() {
            return isRegistered() ? runScheduledPendingTasks() : loop.runScheduledPendingTasks();
        }

        void release() {
            finishAndReleaseAll();
            loop.finishAndReleaseAll();
        }
    }

    /** One connection to the relay as its peer sees it: whether the relay closed it, its timers, its clock. */
    abstract static class Connection {
        final RelayChannel relaySide;

        Connection(RelayChannel relaySide) {
            this.relaySide = relaySide;
        }

        /** Collects what the relay has written so far. */
        abstract void collect();

        boolean closedByRelay() {
            return !relaySide.isOpen();
        }

        /** The peer goes away: the relay's side of the connection closes. */
        void hangUp() {
            relaySide.close();
            collect();
        }

        /** Moves the relay side's clock and runs what became due. */
        Connection advance(Duration by) {
            relaySide.clock.advance(by.toNanos(), TimeUnit.NANOSECONDS);
            relaySide.runLoopTimers();
            relaySide.runLoop();
            collect();
            return this;
        }

        /** Whether anything is still scheduled on the relay side's event loop (a timer the connection left). */
        boolean timersLeft() {
            return relaySide.runLoopTimers() != -1;
        }

        void release() {
            relaySide.release();
        }
    }

    /** A control connection as its peer sees it: the frames it sends, the frames the relay wrote back. */
    abstract static class Peer extends Connection {
        final List<Frame> received = new ArrayList<>();
        private int seen;

        Peer(RelayChannel relaySide) {
            super(relaySide);
        }

        /** Sends a frame or raw bytes (a {@link ByteBuf}). */
        abstract void write(Object message);

        Peer send(Frame frame) {
            write(frame);
            return this;
        }

        Peer sendBytes(byte[] bytes) {
            return sendBuffer(Unpooled.wrappedBuffer(bytes));
        }

        Peer sendBuffer(ByteBuf buf) {
            write(buf);
            return this;
        }

        List<Frame> received() {
            collect();
            return List.copyOf(received);
        }

        /** The frames received since the last call of this or of {@link #welcome()}. */
        List<Frame> fresh() {
            collect();
            List<Frame> fresh = List.copyOf(received.subList(seen, received.size()));
            seen = received.size();
            return fresh;
        }

        /** The one frame the relay answered with, a WELCOME. */
        Frame.Welcome welcome() {
            assertThat(received()).singleElement().isInstanceOf(Frame.Welcome.class);
            seen = 1;
            return (Frame.Welcome) received.get(0);
        }

        @Override
        Peer advance(Duration by) {
            super.advance(by);
            return this;
        }
    }

    /** Frames go in as the bytes a peer would send; what the relay writes is decoded again. */
    static final class PlainPeer extends Peer {
        private final EmbeddedChannel decoder = new EmbeddedChannel(new FrameDecoder());

        PlainPeer(RelayChannel relaySide) {
            super(relaySide);
        }

        @Override
        void write(Object message) {
            ByteBuf bytes = message instanceof Frame frame ? encode(frame) : (ByteBuf) message;
            if (relaySide.isOpen()) {
                relaySide.writeInbound(bytes);
            } else {
                bytes.release();
            }
            relaySide.runLoop();
        }

        @Override
        void collect() {
            relaySide.runLoop();
            for (Object out; (out = relaySide.readOutbound()) != null; ) {
                decoder.writeInbound(out);
            }
            for (Object frame; (frame = decoder.readInbound()) != null; ) {
                received.add((Frame) frame);
            }
        }

        @Override
        void release() {
            super.release();
            decoder.finishAndReleaseAll();
        }
    }

    /** A peer with the CLI's pipeline (TLS, codec); the two channels' bytes are passed between them until quiet. */
    static final class TlsPeer extends Peer {
        private final EmbeddedChannel peerSide;

        TlsPeer(RelayChannel relaySide, SslContext peerTls) {
            super(relaySide);
            this.peerSide = new EmbeddedChannel(new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) {
                    TunnelPipeline.client(ch, peerTls, "localhost", 7444, KEEP_ALIVE);
                    ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                            // a TLS alert from the relay; the peer side's failure is not what is under test
                        }
                    });
                }
            });
        }

        @Override
        void write(Object message) {
            if (peerSide.isOpen()) {
                // written before the handshake ends, a frame leaves right after it, as the CLI's HELLO does
                peerSide.writeOneOutbound(message);
                peerSide.flushOutbound();
            } else {
                ReferenceCountUtil.release(message);
            }
            shuttle();
        }

        @Override
        void collect() {
            shuttle();
            for (Object frame; (frame = peerSide.readInbound()) != null; ) {
                received.add((Frame) frame);
            }
        }

        private void shuttle() {
            boolean moved;
            do {
                moved = transfer(peerSide, relaySide) | transfer(relaySide, peerSide);
            } while (moved);
        }

        private static boolean transfer(EmbeddedChannel from, EmbeddedChannel to) {
            if (from instanceof RelayChannel relaySide) {
                relaySide.runLoop();
            } else {
                from.runPendingTasks();
            }
            boolean moved = false;
            for (Object bytes; (bytes = from.readOutbound()) != null; ) {
                moved = true;
                if (to.isOpen()) {
                    to.writeInbound(bytes);
                } else {
                    ReferenceCountUtil.release(bytes);
                }
            }
            return moved;
        }

        @Override
        void release() {
            super.release();
            peerSide.finishAndReleaseAll();
        }
    }

    /**
     * A connection whose peer speaks plain bytes: a data connection (its preamble, then the end-to-end bytes the
     * relay passes on unread) or a stray. What the relay writes to it is collected as bytes.
     */
    static final class RawPeer extends Connection {
        private final ByteArrayOutputStream received = new ByteArrayOutputStream();

        RawPeer(RelayChannel relaySide) {
            super(relaySide);
        }

        /** Sends {@code parts} as one read. */
        RawPeer send(byte[]... parts) {
            byte[] all = new byte[0];
            for (byte[] part : parts) {
                all = concat(all, part);
            }
            if (relaySide.isOpen()) {
                relaySide.writeInbound(Unpooled.wrappedBuffer(all));
            }
            relaySide.runLoop();
            return this;
        }

        @Override
        void collect() {
            relaySide.runLoop();
            for (Object out; (out = relaySide.readOutbound()) != null; ) {
                ByteBuf buf = (ByteBuf) out;
                try {
                    byte[] bytes = new byte[buf.readableBytes()];
                    buf.readBytes(bytes);
                    received.writeBytes(bytes);
                } finally {
                    buf.release();
                }
            }
        }

        /** Everything the relay has written to this connection so far. */
        byte[] received() {
            collect();
            return received.toByteArray();
        }
    }
}
