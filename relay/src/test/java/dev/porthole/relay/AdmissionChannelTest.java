package dev.porthole.relay;

import dev.porthole.protocol.ForwardRef;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import dev.porthole.pki.CertificateAuthority;
import dev.porthole.protocol.BindScope;
import dev.porthole.protocol.EndReason;
import dev.porthole.protocol.Frame;
import dev.porthole.protocol.FrameDecoder;
import dev.porthole.protocol.FrameEncoder;
import dev.porthole.protocol.Protocol;
import dev.porthole.protocol.Role;
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
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
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
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The relay's admission (the first handler of both listeners) on Netty's {@link EmbeddedChannel}: no sockets, no
 * threads, no waiting. Each connection gets the listener's real pipeline; where the client certificate matters the
 * TLS is real too (the relay's and the CLI's own TLS contexts, their bytes passed between two embedded channels),
 * elsewhere the pipeline is the same minus TLS. Hooks and listeners run inline on the connection's event loop, and
 * the event loops' clocks stand still unless a test moves them, so every outcome is known when the write returns.
 */
class AdmissionChannelTest {

    private static final CertificateAuthority CA = CertificateAuthority.create("admission-test-ca", Duration.ofDays(1));
    private static final KeyMaterial RELAY_KEY = CA.issueServerCertificate("porthole-relay", List.of("localhost"),
            Duration.ofDays(1));
    /** The client listener's TLS, as {@link RelayServer#start()} builds it. */
    private static final SslContext CLIENT_LISTENER_TLS = TlsContexts.serverRequiringClientCertificate(RELAY_KEY,
            CA.certificate());
    /** The agent listener's TLS: server authentication only. */
    private static final SslContext AGENT_LISTENER_TLS = TlsContexts.server(RELAY_KEY);
    private static final InetSocketAddress PEER = new InetSocketAddress("192.0.2.10", 50123);
    private static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration KEEP_ALIVE = Duration.ofSeconds(15);

    private static final Instant NOW = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    /** Served, Active, alice is in its audience. */
    private static final String DB = "shop/db";
    private static final String DB_UID = "uid-db";
    private static final String DB_TOKEN = "db-t0ken";
    private static final Instant DB_EXPIRY = NOW.plus(Duration.ofHours(2));
    /** Served, Active: the bystander agent's forward. */
    private static final String CACHE = "shop/cache";
    private static final String CACHE_UID = "uid-cache";
    private static final String CACHE_TOKEN = "cache-t0ken";
    /** Served, expired a minute ago. */
    private static final String OLD = "shop/old";
    private static final String OLD_UID = "uid-old";
    private static final String OLD_TOKEN = "old-t0ken";
    private static final Instant OLD_EXPIRY = NOW.minus(Duration.ofMinutes(1));
    /** Exists but is Pending (not Active): decided by the shared {@link ForwardAccess} rule. */
    private static final String PENDING = "shop/pending";
    private static final String PENDING_UID = "uid-pending";
    /** Its authorizer and authenticator fail. */
    private static final String BROKEN = "shop/broken";
    private static final String BROKEN_UID = "uid-broken";

    private static final KeyMaterial ALICE_DB = clientKey("alice", DB, DB_UID, NOW.plus(Duration.ofHours(1)));

    private final StaticForwards forwards = new StaticForwards(Map.of(
            ref(DB), new StaticForwards.Forward(DB_TOKEN, DB_UID, List.of("alice"), List.of(), BindScope.LOOPBACK, DB_EXPIRY),
            ref(CACHE), new StaticForwards.Forward(CACHE_TOKEN, CACHE_UID, List.of("alice"), List.of(), BindScope.LOOPBACK,
                    DB_EXPIRY),
            ref(OLD), new StaticForwards.Forward(OLD_TOKEN, OLD_UID, List.of("alice"), List.of(), BindScope.LOOPBACK,
                    OLD_EXPIRY)), Clock.systemUTC());
    private final AtomicInteger authenticatorCalls = new AtomicInteger();
    private final AtomicInteger authorizerCalls = new AtomicInteger();
    private final List<SessionListener.Denied> denials = new CopyOnWriteArrayList<>();
    private final List<String> agentRejections = new CopyOnWriteArrayList<>();
    private final List<Peer> peers = new ArrayList<>();
    private final RelayContext relay = new RelayContext(RelayServer.builder()
            .clock(Clock.systemUTC())
            .handshakeTimeout(HANDSHAKE_TIMEOUT)
            .keepAlive(KEEP_ALIVE)
            .agentAuthenticator(this::authenticate)
            .sessionAuthorizer(this::authorize)
            .sessionListener(new SessionListener() {
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

    @AfterEach
    void releaseChannels() {
        peers.forEach(Peer::release);
    }

    // 1. malformed first frames

    @ParameterizedTest(name = "{0} listener, {1}")
    @MethodSource("malformedFirstFrames")
    @DisplayName("a malformed first frame closes its own connection only; the relay admits the next one as before")
    void malformedFrameClosesOnlyItsConnection(Listener listener, String what, byte[] bytes) {
        // given: an agent already admitted for another forward, as a bystander
        Peer bystander = plain(Listener.AGENT).send(agentHello(CACHE, CACHE_TOKEN));
        assertThat(bystander.welcome().accepted()).isTrue();
        Peer offender = plain(listener);

        // when
        offender.sendBytes(bytes);

        // then: the offender is closed without an answer and counted as a protocol error
        assertThat(offender.closedByRelay()).isTrue();
        assertThat(offender.received()).isEmpty();
        assertThat(offender.timersLeft()).isFalse();
        assertThat(stats()).isEqualTo(new RelayStats(1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0));
        assertThat(authenticatorCalls.get()).as("only the bystander's token was checked").isEqualTo(1);
        assertThat(authorizerCalls.get()).isZero();
        // and nothing else changed: the bystander is still connected and registered
        assertThat(bystander.closedByRelay()).isFalse();
        assertThat(relay.registry.agent(ref(CACHE)).mux().channel()).isSameAs(bystander.relaySide);
        // and the same listener admits a well-behaved newcomer
        Peer newcomer = listener == Listener.AGENT ? plain(Listener.AGENT).send(agentHello(DB, DB_TOKEN))
                : tls(CLIENT_LISTENER_TLS, Listener.CLIENT, TlsContexts.client(CA.certificate(), ALICE_DB))
                        .send(clientHello(Role.CLIENT, DB));
        assertThat(newcomer.welcome().accepted()).isTrue();
        assertThat(newcomer.closedByRelay()).isFalse();
    }

    static Stream<Arguments> malformedFirstFrames() {
        ByteBuf unknownRole = encode(clientHello(Role.CLIENT_SESSION, DB));
        unknownRole.setByte(Protocol.HEADER_LENGTH + 6, 9); // header, magic (4), version (2), then the role
        List<Arguments> frames = List.of(
                arguments("garbage (an HTTP request)", "GET / HTTP/1.1\r\nHost: relay\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII)),
                arguments("a frame of unknown type 0x0f", header(0, 0x0F)),
                arguments("a length prefix over the 64 KiB limit", header(Protocol.MAX_PAYLOAD + 1, HELLO_TYPE)),
                arguments("a HELLO without the Porthole magic", concat(header(8, HELLO_TYPE), new byte[8])),
                arguments("a HELLO with an unknown role", bytes(unknownRole)),
                arguments("a PING instead of a HELLO", bytes(encode(new Frame.Ping(7)))));
        return Stream.of(Listener.values()).flatMap(listener -> frames.stream()
                .map(frame -> arguments(listener, frame.get()[0], frame.get()[1])));
    }

    @ParameterizedTest(name = "{0} listener")
    @EnumSource(Listener.class)
    @DisplayName("a second HELLO sent before the first is answered is a protocol error, not a second admission")
    void secondHelloIsAProtocolError(Listener listener) {
        // given: a HELLO each listener answers without a certificate (on the client listener: a refusal)
        Frame.Hello hello = agentHello(DB, DB_TOKEN);
        ByteBuf twoHellos = Unpooled.wrappedBuffer(encode(hello), encode(hello));

        // when: both arrive in one read, as a client that does not wait for its WELCOME sends them
        Peer peer = plain(listener).sendBuffer(twoHellos);

        // then: the second closes the connection as a protocol error; the client listener had already refused the
        // first, the agent listener never admits the agent whose token was still being checked
        assertThat(peer.closedByRelay()).isTrue();
        assertThat(peer.timersLeft()).isFalse();
        assertThat(relay.registry.agents()).isEmpty();
        if (listener == Listener.CLIENT) {
            assertThat(peer.received()).containsExactly(Frame.Welcome.refuse(EndReason.DENIED,
                    "this is the client listener; agents use the agent listener"));
            assertThat(stats()).isEqualTo(new RelayStats(0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0));
        } else {
            assertThat(peer.received()).isEmpty();
            assertThat(stats()).isEqualTo(new RelayStats(0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0));
        }
    }

    // 2. the wrong listener

    @Test
    @DisplayName("an agent's HELLO on the client listener is refused readably, its token never checked")
    void agentHelloOnClientListenerIsRefused() {
        // given
        Peer agent = plain(Listener.CLIENT);

        // when
        agent.send(agentHello(DB, DB_TOKEN));

        // then
        String reason = "this is the client listener; agents use the agent listener";
        assertThat(agent.welcome()).isEqualTo(Frame.Welcome.refuse(EndReason.DENIED, reason));
        assertThat(agent.closedByRelay()).isTrue();
        assertThat(agent.timersLeft()).isFalse();
        assertThat(authenticatorCalls.get()).isZero();
        assertThat(authorizerCalls.get()).isZero();
        assertThat(stats()).isEqualTo(new RelayStats(0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0));
        assertThat(denials).containsExactly(new SessionListener.Denied(null, PEER, ref(DB), EndReason.DENIED, reason));
        assertThat(relay.registry.agents()).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(value = Role.class, names = {"CLIENT_SESSION", "CLIENT"})
    @DisplayName("a client's HELLO on the agent listener is refused readably, never registered as an agent")
    void clientHelloOnAgentListenerIsRefused(Role role) {
        // given
        Peer client = plain(Listener.AGENT);

        // when
        client.send(new Frame.Hello(Protocol.VERSION, role, DB, DB_TOKEN, Protocol.DEFAULT_WINDOW));

        // then
        assertThat(client.welcome()).isEqualTo(Frame.Welcome.refuse(EndReason.DENIED,
                "this is the agent listener; clients use the client listener"));
        assertThat(client.closedByRelay()).isTrue();
        assertThat(client.timersLeft()).isFalse();
        assertThat(authenticatorCalls.get()).as("not even a valid token makes a client an agent").isZero();
        assertThat(relay.registry.agents()).isEmpty();
        // (this refusal is not counted in RelayStats nor reported to the AgentListener)
        assertThat(stats()).isEqualTo(new RelayStats(0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0));
        assertThat(agentRejections).isEmpty();
    }

    @ParameterizedTest(name = "{0} listener")
    @EnumSource(Listener.class)
    @DisplayName("a HELLO of another protocol version is refused with both versions named")
    void otherProtocolVersionIsRefused(Listener listener) {
        // given
        Peer peer = plain(listener);

        // when
        peer.send(new Frame.Hello(Protocol.VERSION + 1, Role.AGENT, DB, DB_TOKEN, Protocol.DEFAULT_WINDOW));

        // then
        assertThat(peer.welcome()).isEqualTo(Frame.Welcome.refuse(EndReason.PROTOCOL_ERROR,
                "unsupported protocol version 2; this relay speaks 1"));
        assertThat(peer.closedByRelay()).isTrue();
        assertThat(authenticatorCalls.get() + authorizerCalls.get()).isZero();
        assertThat(relay.registry.agents()).isEmpty();
    }

    // 3. the client certificate

    @Test
    @DisplayName("a client without a certificate fails the TLS handshake; its HELLO never reaches admission")
    void clientWithoutCertificateNeverReachesAdmission() {
        // given: a client that trusts the relay but presents no certificate
        Peer client = tls(CLIENT_LISTENER_TLS, Listener.CLIENT, TlsContexts.client(CA.certificate()));

        // when
        client.send(clientHello(Role.CLIENT_SESSION, DB));

        // then
        assertThat(client.closedByRelay()).isTrue();
        assertThat(client.received()).isEmpty();
        assertThat(client.timersLeft()).isFalse();
        assertThat(authorizerCalls.get()).isZero();
        assertThat(denials).isEmpty();
        assertThat(stats()).isEqualTo(new RelayStats(0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("listenersWithoutVerifiedCertificate")
    @DisplayName("a client listener that has no verified certificate to read fails closed: no answer, no authorizer")
    void noVerifiedCertificateFailsClosed(String what, SslContext listenerTls) {
        // given: a HELLO reaches the client admission with no verified peer certificate behind it, which the
        // listener's own TLS (client certificate required) never lets happen
        Peer client = listenerTls == null ? plain(Listener.CLIENT)
                : tls(listenerTls, Listener.CLIENT, TlsContexts.client(CA.certificate(), ALICE_DB));

        // when
        client.send(clientHello(Role.CLIENT_SESSION, DB));

        // then: closed unanswered (this is a broken relay, not a client to tell anything)
        assertThat(client.closedByRelay()).isTrue();
        assertThat(client.received()).isEmpty();
        assertThat(authorizerCalls.get()).isZero();
        assertThat(relay.registry.allWatchers()).isEmpty();
        assertThat(stats()).isEqualTo(new RelayStats(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
    }

    static Stream<Arguments> listenersWithoutVerifiedCertificate() {
        return Stream.of(arguments("no TLS at all", null),
                arguments("TLS that does not ask for a client certificate", AGENT_LISTENER_TLS));
    }

    @Test
    @DisplayName("a certificate for another forward is refused by the relay itself, before the authorizer")
    void certificateForAnotherForwardIsRefused() {
        // given: alice's valid certificate for shop/cache
        KeyMaterial cacheKey = clientKey("alice", CACHE, CACHE_UID, NOW.plus(Duration.ofHours(1)));
        Peer client = tls(CLIENT_LISTENER_TLS, Listener.CLIENT, TlsContexts.client(CA.certificate(), cacheKey));

        // when: it asks for shop/db
        client.send(clientHello(Role.CLIENT_SESSION, DB));

        // then
        String reason = "certificate is for forward shop/cache, not shop/db";
        assertThat(client.welcome()).isEqualTo(Frame.Welcome.refuse(EndReason.DENIED, reason));
        assertThat(client.closedByRelay()).isTrue();
        assertThat(client.timersLeft()).isFalse();
        assertThat(authorizerCalls.get()).isZero();
        assertThat(stats()).isEqualTo(new RelayStats(0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0));
        assertThat(denials).singleElement().satisfies(d -> {
            assertThat(d.identity().username()).isEqualTo("alice");
            assertThat(d.identity().forward()).isEqualTo(ref(CACHE));
            assertThat(d.forward()).isEqualTo(ref(DB));
            assertThat(d.message()).isEqualTo(reason);
        });
    }

    @Test
    @DisplayName("an expired certificate passes TLS but is refused readably, before the authorizer")
    void expiredCertificateIsRefused() {
        // given: the CA-pinning trust manager leaves leaf dates to the relay, so that this can be told to the user
        Instant expired = NOW.minus(Duration.ofMinutes(1));
        KeyMaterial key = clientKey("alice", DB, DB_UID, expired);
        Peer client = tls(CLIENT_LISTENER_TLS, Listener.CLIENT, TlsContexts.client(CA.certificate(), key));

        // when
        client.send(clientHello(Role.CLIENT_SESSION, DB));

        // then
        assertThat(client.welcome()).isEqualTo(Frame.Welcome.refuse(EndReason.DENIED,
                "certificate expired at " + expired));
        assertThat(client.closedByRelay()).isTrue();
        assertThat(authorizerCalls.get()).isZero();
        assertThat(stats()).isEqualTo(new RelayStats(0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0));
    }

    @Test
    @DisplayName("a probe with a valid certificate is admitted, watched, and forgotten when it leaves")
    void probeIsAdmittedAndForgotten() {
        // given
        Peer probe = tls(CLIENT_LISTENER_TLS, Listener.CLIENT, TlsContexts.client(CA.certificate(), ALICE_DB));

        // when
        probe.send(clientHello(Role.CLIENT, DB));

        // then: accepted until the certificate ends (before the forward does)
        assertThat(probe.welcome()).isEqualTo(Frame.Welcome.accept(BindScope.LOOPBACK, ALICE_DB.certificate()
                .getNotAfter().toInstant(), "", relay.streamWindow));
        assertThat(probe.closedByRelay()).isFalse();
        assertThat(authorizerCalls.get()).isEqualTo(1);
        assertThat(relay.registry.watchers(ref(DB))).hasSize(1);
        // and once it leaves, nothing of it stays: no watcher, no timer (the expiry included)
        probe.hangUp();
        assertThat(relay.registry.allWatchers()).isEmpty();
        assertThat(probe.timersLeft()).isFalse();
        assertThat(stats()).isEqualTo(new RelayStats(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
    }

    @Test
    @DisplayName("an authorised session while no agent is connected is refused as unavailable, naming the user")
    void sessionWithoutAgentIsRefused() {
        // given
        Peer client = tls(CLIENT_LISTENER_TLS, Listener.CLIENT, TlsContexts.client(CA.certificate(), ALICE_DB));

        // when
        client.send(clientHello(Role.CLIENT_SESSION, DB));

        // then
        String reason = "no agent is connected for forward shop/db";
        assertThat(client.welcome()).isEqualTo(Frame.Welcome.refuse(EndReason.AGENT_UNAVAILABLE, reason));
        assertThat(client.closedByRelay()).isTrue();
        assertThat(client.timersLeft()).isFalse();
        assertThat(relay.registry.allSessions()).isEmpty();
        assertThat(denials).singleElement().satisfies(d -> {
            assertThat(d.reason()).isEqualTo(EndReason.AGENT_UNAVAILABLE);
            assertThat(d.message()).isEqualTo(reason);
            assertThat(d.identity()).as("the certificate was verified: the audit record names its holder")
                    .isNotNull().extracting(ClientIdentity::username).isEqualTo("alice");
        });
    }

    // 4. the authorizer's refusals

    @ParameterizedTest(name = "{0}")
    @MethodSource("authorizerRefusals")
    @DisplayName("a session the authorizer refuses gets the authorizer's reason")
    void authorizerRefusalIsPassedOn(String what, String user, String forward, String uid, String reason) {
        // given: a valid certificate for exactly the forward asked for
        KeyMaterial key = clientKey(user, forward, uid, NOW.plus(Duration.ofHours(1)));
        Peer client = tls(CLIENT_LISTENER_TLS, Listener.CLIENT, TlsContexts.client(CA.certificate(), key));

        // when
        client.send(clientHello(Role.CLIENT_SESSION, forward));

        // then
        assertThat(client.welcome()).isEqualTo(Frame.Welcome.refuse(EndReason.DENIED, reason));
        assertThat(client.closedByRelay()).isTrue();
        assertThat(client.timersLeft()).isFalse();
        assertThat(authorizerCalls.get()).isEqualTo(1);
        assertThat(stats()).isEqualTo(new RelayStats(0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0));
        assertThat(denials).singleElement().satisfies(d -> {
            assertThat(d.identity().username()).isEqualTo(user);
            assertThat(d.forward()).isEqualTo(ref(forward));
            assertThat(d.reason()).isEqualTo(EndReason.DENIED);
            assertThat(d.message()).isEqualTo(reason);
        });
        assertThat(relay.registry.allSessions()).isEmpty();
        assertThat(relay.registry.allWatchers()).isEmpty();
    }

    static Stream<Arguments> authorizerRefusals() {
        return Stream.of(
                arguments("an unknown forward", "alice", "shop/gone", "uid-gone",
                        "forward shop/gone is not served by this relay"),
                arguments("an expired forward", "alice", OLD, OLD_UID, "forward shop/old expired at " + OLD_EXPIRY),
                arguments("a forward that is not Active", "alice", PENDING, PENDING_UID,
                        "forward shop/pending is Pending, not Active"),
                arguments("a certificate of an earlier forward of the same name", "alice", DB, "uid-earlier",
                        "certificate was issued for an earlier forward named shop/db (uid uid-earlier); request a new one"),
                arguments("a user outside the audience", "mallory", DB, DB_UID,
                        "mallory is not in the audience of forward shop/db"),
                arguments("an authorizer that throws", "alice", BROKEN, BROKEN_UID, "authorisation failed on the relay"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("agentRefusals")
    @DisplayName("an agent the authenticator refuses is rejected readably and never registered")
    void agentRefusalIsPassedOn(String what, String forward, String token, String reason) {
        // given
        Peer agent = plain(Listener.AGENT);

        // when
        agent.send(agentHello(forward, token));

        // then
        assertThat(agent.welcome()).isEqualTo(Frame.Welcome.refuse(EndReason.DENIED, reason));
        assertThat(agent.closedByRelay()).isTrue();
        assertThat(agent.timersLeft()).isFalse();
        assertThat(relay.registry.agents()).isEmpty();
        assertThat(stats()).isEqualTo(new RelayStats(0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0));
        // a name that is no forward reaches the listener as no forward at all
        String named = forward.contains("/") ? forward : null;
        assertThat(agentRejections).containsExactly(named + ": " + reason);
    }

    static Stream<Arguments> agentRefusals() {
        return Stream.of(
                arguments("a wrong token", DB, CACHE_TOKEN, "agent token rejected for forward shop/db"),
                arguments("no token", DB, "", "agent presented no token for forward shop/db"),
                arguments("an unknown forward", "shop/gone", DB_TOKEN, "agent token rejected for forward shop/gone"),
                arguments("an expired forward", OLD, OLD_TOKEN, "agent token rejected for forward shop/old"),
                arguments("a malformed forward name", "db", DB_TOKEN, "forward must be NAMESPACE/NAME, got 'db'"),
                arguments("an authenticator that throws", BROKEN, "any", "agent authentication failed on the relay"));
    }

    // 5. the handshake timeout

    @ParameterizedTest(name = "{0} listener, {1}")
    @MethodSource("silentPeers")
    @DisplayName("a connection without a whole HELLO is closed at the handshake timeout, not a millisecond before")
    void handshakeTimeoutClosesSilentConnections(Listener listener, String what, byte[] sent) {
        // given
        Peer peer = plain(listener).sendBytes(sent);

        // when / then
        peer.advance(HANDSHAKE_TIMEOUT.minusMillis(1));
        assertThat(peer.closedByRelay()).isFalse();
        assertThat(peer.timersLeft()).isTrue();
        peer.advance(Duration.ofMillis(1));
        assertThat(peer.closedByRelay()).isTrue();
        assertThat(peer.received()).isEmpty();
        assertThat(peer.timersLeft()).isFalse();
        // (a timeout is not counted in RelayStats)
        assertThat(stats()).isEqualTo(new RelayStats(0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0));
    }

    static Stream<Arguments> silentPeers() {
        byte[] hello = bytes(encode(agentHello(DB, DB_TOKEN)));
        byte[] half = Arrays.copyOf(hello, hello.length / 2);
        return Stream.of(Listener.values()).flatMap(listener -> Stream.of(
                arguments(listener, "nothing sent", new byte[0]),
                arguments(listener, "half a HELLO sent", half)));
    }

    @Test
    @DisplayName("an admitted agent outlives the handshake timeout")
    void admittedAgentOutlivesHandshakeTimeout() {
        // given
        Peer agent = plain(Listener.AGENT).send(agentHello(DB, DB_TOKEN));
        assertThat(agent.welcome().accepted()).isTrue();

        // when
        agent.advance(HANDSHAKE_TIMEOUT.plusSeconds(1));

        // then
        assertThat(agent.closedByRelay()).isFalse();
        assertThat(relay.registry.agent(ref(DB)).isOpen()).isTrue();
    }

    // 6. many connections

    @Test
    @DisplayName("1,000 refused or abandoned connections and 100 admitted-and-gone agents leave nothing behind")
    void floodLeavesNoState() {
        // given
        List<Peer> flood = new ArrayList<>();

        // when
        for (int i = 0; i < 200; i++) {
            flood.add(plain(Listener.CLIENT).send(agentHello(DB, DB_TOKEN)));                // denied
            flood.add(plain(Listener.AGENT).send(agentHello(DB, "guess-" + i)));              // rejected
            flood.add(plain(i % 2 == 0 ? Listener.CLIENT : Listener.AGENT).sendBytes(header(0, 0x0F))); // protocol error
            Peer leaves = plain(i % 2 == 0 ? Listener.CLIENT : Listener.AGENT);             // leaves unannounced
            leaves.hangUp();
            flood.add(leaves);
            flood.add(plain(i % 2 == 0 ? Listener.CLIENT : Listener.AGENT).advance(HANDSHAKE_TIMEOUT)); // times out
        }
        for (int i = 0; i < 100; i++) {
            Peer agent = plain(Listener.AGENT).send(agentHello(i % 2 == 0 ? DB : CACHE, i % 2 == 0 ? DB_TOKEN : CACHE_TOKEN));
            assertThat(agent.welcome().accepted()).isTrue();
            agent.hangUp();
            flood.add(agent);
        }

        // then: every connection is closed and has no timer left; the registry is empty; the counters add up
        assertThat(flood).hasSize(1100).allSatisfy(peer -> {
            assertThat(peer.closedByRelay()).isTrue();
            assertThat(peer.timersLeft()).isFalse();
        });
        assertThat(relay.registry.agents()).isEmpty();
        assertThat(relay.registry.allSessions()).isEmpty();
        assertThat(relay.registry.allWatchers()).isEmpty();
        assertThat(stats()).isEqualTo(new RelayStats(0, 0, 0, 200, 200, 200, 0, 200, 0, 0, 0, 0));
        assertThat(denials).hasSize(200);
        assertThat(agentRejections).hasSize(200);
        assertThat(authenticatorCalls.get()).isEqualTo(300);
        assertThat(authorizerCalls.get()).isZero();
        // and the relay still admits
        Peer agent = plain(Listener.AGENT).send(agentHello(DB, DB_TOKEN));
        assertThat(agent.welcome().accepted()).isTrue();
        assertThat(relay.registry.agents()).hasSize(1);
    }

    // fixtures

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
        if (forward.equals(ref(PENDING))) {
            ForwardAccess.Forward pending = new ForwardAccess.Forward(PENDING_UID, DB_EXPIRY, false,
                    Optional.of("Pending"), (user, groups) -> user.equals("alice"));
            return ForwardAccess.refusal(ref(PENDING), pending, ForwardAccess.Requester.withCertificate(identity.username(),
                    identity.groups(), identity.forwardUid()), NOW).map(Decision::deny)
                    .orElse(Decision.allow(BindScope.LOOPBACK, DB_EXPIRY));
        }
        return forwards.authorize(identity, forward, address);
    }

    /** The counters as {@link RelayServer#stats()} reports them. */
    private RelayStats stats() {
        return relay.stats();
    }

    private static KeyMaterial clientKey(String user, String forward, String uid, Instant notAfter) {
        KeyPair keys = CertificateAuthority.generateKeyPair();
        return new KeyMaterial(keys.getPrivate(), List.of(CA.issueClientCertificate(keys.getPublic(),
                new ClientIdentity(user, List.of("sre"), ref(forward), uid, notAfter))));
    }

    /** The typed form of a forward the tests name as it travels on the wire. */
    private static ForwardRef ref(String forward) {
        return ForwardRef.parse(forward);
    }

    private static Frame.Hello agentHello(String forward, String token) {
        return new Frame.Hello(Protocol.VERSION, Role.AGENT, forward, token, Protocol.DEFAULT_WINDOW);
    }

    private static Frame.Hello clientHello(Role role, String forward) {
        return new Frame.Hello(Protocol.VERSION, role, forward, "", Protocol.DEFAULT_WINDOW);
    }

    private static final int HELLO_TYPE = 0x01;

    /** A frame header: {@code length:u32 | type:u8 | stream:u32} on stream 0. */
    private static byte[] header(long length, int type) {
        ByteBuf buf = Unpooled.buffer(Protocol.HEADER_LENGTH);
        buf.writeInt((int) length).writeByte(type).writeInt(0);
        return bytes(buf);
    }

    private static ByteBuf encode(Frame frame) {
        ByteBuf buf = Unpooled.buffer();
        FrameEncoder.encodeControl(frame, buf);
        return buf;
    }

    private static byte[] bytes(ByteBuf buf) {
        try {
            byte[] bytes = new byte[buf.readableBytes()];
            buf.readBytes(bytes);
            return bytes;
        } finally {
            buf.release();
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }

    /** The two listeners and their first handler. */
    enum Listener {
        CLIENT, AGENT;

        Admission admission(RelayContext relay) {
            return this == CLIENT ? new ClientAdmission(relay) : new AgentAdmission(relay);
        }
    }

    /** A connection to {@code listener} with the listener's pipeline without TLS; the peer writes frames as bytes. */
    private Peer plain(Listener listener) {
        Admission admission = listener.admission(relay);
        RelayChannel channel = new RelayChannel(new ChannelInitializer<Channel>() {
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
     * A connection to {@code listener} with its whole pipeline, TLS from {@code listenerTls}, and a peer with the
     * CLI's pipeline and {@code peerTls}; the TLS handshake runs when the peer first sends.
     */
    private Peer tls(SslContext listenerTls, Listener listener, SslContext peerTls) {
        Admission admission = listener.admission(relay);
        RelayChannel channel = new RelayChannel(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                TunnelPipeline.server(ch, listenerTls, KEEP_ALIVE);
                ch.pipeline().addLast(TunnelPipeline.APPLICATION, admission);
            }
        });
        return track(new TlsPeer(channel, peerTls));
    }

    private Peer track(Peer peer) {
        peers.add(peer);
        return peer;
    }

    /** The relay's side of a connection: a remote address like a socket's, and a clock that moves only when told. */
    private static final class RelayChannel extends EmbeddedChannel {
        final MockTicker clock;

        RelayChannel(ChannelInitializer<Channel> initializer) {
            this(initializer, Ticker.newMockTicker());
        }

        private RelayChannel(ChannelInitializer<Channel> initializer, MockTicker clock) {
            super(EmbeddedChannel.builder().handlers(initializer).ticker(clock));
            this.clock = clock;
        }

        @Override
        protected SocketAddress remoteAddress0() {
            return PEER;
        }
    }

    /** One connection as its peer sees it: what it sends, what the relay wrote back, whether the relay closed it. */
    private abstract static class Peer {
        final RelayChannel relaySide;
        final List<Frame> received = new ArrayList<>();

        Peer(RelayChannel relaySide) {
            this.relaySide = relaySide;
        }

        /** Sends a frame or raw bytes (a {@link ByteBuf}). */
        abstract void write(Object message);

        /** Collects what the relay has written so far into {@link #received}. */
        abstract void collect();

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

        /** The one frame the relay answered with, a WELCOME. */
        Frame.Welcome welcome() {
            assertThat(received()).singleElement().isInstanceOf(Frame.Welcome.class);
            return (Frame.Welcome) received.get(0);
        }

        boolean closedByRelay() {
            return !relaySide.isOpen();
        }

        /** The peer goes away: the relay's side of the connection closes. */
        void hangUp() {
            relaySide.close();
            collect();
        }

        /** Moves the relay side's clock and runs what became due. */
        Peer advance(Duration by) {
            relaySide.clock.advance(by.toNanos(), TimeUnit.NANOSECONDS);
            relaySide.runScheduledPendingTasks();
            relaySide.runPendingTasks();
            collect();
            return this;
        }

        /** Whether anything is still scheduled on the relay side's event loop (a timer the connection left). */
        boolean timersLeft() {
            return relaySide.runScheduledPendingTasks() != -1;
        }

        void release() {
            relaySide.finishAndReleaseAll();
        }
    }

    /** Frames go in as the bytes a peer would send; what the relay writes is decoded again. */
    private static final class PlainPeer extends Peer {
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
            relaySide.runPendingTasks();
        }

        @Override
        void collect() {
            relaySide.runPendingTasks();
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
    private static final class TlsPeer extends Peer {
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
            from.runPendingTasks();
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
}
