package dev.porthole.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import dev.porthole.protocol.BindScope;
import dev.porthole.protocol.DataRefusal;
import dev.porthole.protocol.EndReason;
import dev.porthole.protocol.Frame;
import dev.porthole.protocol.Protocol;
import dev.porthole.protocol.Role;
import dev.porthole.protocol.pki.CertificateDigest;
import dev.porthole.protocol.pki.ClientIdentity;
import dev.porthole.protocol.pki.KeyMaterial;
import dev.porthole.protocol.tls.TlsContexts;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.ssl.SslContext;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The relay's admission of control connections (the first handlers of both listeners) and the session requests on an
 * admitted client's control connection, on Netty's {@link EmbeddedChannel}: no sockets, no threads, no waiting. Where
 * the client certificate matters a connection gets the listener's real pipeline (the sniffer, then real TLS);
 * elsewhere it gets the pipeline the sniffer installs for a control connection, minus TLS, put in place directly (see
 * {@link AdmissionTestSupport}). Hooks and listeners run inline on the connection's event loop, and the event loops'
 * clocks stand still unless a test moves them, so every outcome is known when the write returns. The data connections
 * of a granted session are {@link DataAdmissionChannelTest}'s.
 */
class AdmissionChannelTest extends AdmissionTestSupport {

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
        assertThat(stats()).isEqualTo(new RelayStats(1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0));
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
        ByteBuf unknownRole = encode(clientHello(Role.CLIENT, DB));
        unknownRole.setByte(Protocol.HEADER_LENGTH + 6, 9); // header, magic (4), version (2), then the role
        ByteBuf sessionRole = encode(clientHello(Role.CLIENT, DB));
        sessionRole.setByte(Protocol.HEADER_LENGTH + 6, 2); // version 1's connection per session, gone in version 2
        List<Arguments> frames = List.of(
                arguments("garbage (an HTTP request)", "GET / HTTP/1.1\r\nHost: relay\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII)),
                arguments("a frame of unknown type 0x0f", header(0, 0x0F)),
                arguments("a length prefix over the 64 KiB limit", header(Protocol.MAX_PAYLOAD + 1, HELLO_TYPE)),
                arguments("a HELLO without the Porthole magic", concat(header(8, HELLO_TYPE), new byte[8])),
                arguments("a HELLO with an unknown role", bytes(unknownRole)),
                arguments("a HELLO with version 1's session role (code 2)", bytes(sessionRole)),
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
            assertThat(stats()).isEqualTo(new RelayStats(0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0));
        } else {
            assertThat(peer.received()).isEmpty();
            assertThat(stats()).isEqualTo(new RelayStats(0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0));
        }
    }

    @ParameterizedTest(name = "{0} listener, {1}")
    @MethodSource("strays")
    @DisplayName("a connection whose first byte is neither a TLS record (0x16) nor a data preamble ('P') is closed"
            + " unanswered as a protocol error")
    void strayFirstByteIsAProtocolError(Listener listener, String what, byte[] bytes) {
        // given: the listener's real first handler
        RawPeer stray = raw(listener);

        // when
        stray.send(bytes);

        // then: closed before any TLS or admission work, without a word, counted; no timer is left behind
        assertThat(stray.closedByRelay()).isTrue();
        assertThat(stray.received()).isEmpty();
        assertThat(stray.timersLeft()).as("the handshake deadline goes with the connection").isFalse();
        assertThat(stats()).isEqualTo(new RelayStats(0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0));
        assertThat(authenticatorCalls.get() + authorizerCalls.get()).isZero();
        // and later the deadline does not count it a second time, as a handshake timeout
        stray.advance(HANDSHAKE_TIMEOUT);
        assertThat(stats().handshakeTimeouts()).isZero();
    }

    static Stream<Arguments> strays() {
        List<Arguments> strays = List.of(
                arguments("an HTTP request", "GET / HTTP/1.1\r\nHost: relay\r\n\r\n".getBytes(StandardCharsets.US_ASCII)),
                arguments("an SSH banner", "SSH-2.0-OpenSSH_9.6\r\n".getBytes(StandardCharsets.US_ASCII)),
                arguments("a HELLO without TLS", bytes(encode(agentHello(DB, DB_TOKEN)))),
                arguments("a single zero byte", new byte[] {0}));
        return Stream.of(Listener.values()).flatMap(listener -> strays.stream()
                .map(stray -> arguments(listener, stray.get()[0], stray.get()[1])));
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
        assertThat(stats()).isEqualTo(new RelayStats(0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0));
        assertThat(denials).containsExactly(new SessionListener.Denied(null, PEER, ref(DB), EndReason.DENIED, reason));
        assertThat(relay.registry.agents()).isEmpty();
    }

    @Test
    @DisplayName("a client's HELLO on the agent listener is refused readably, never registered as an agent")
    void clientHelloOnAgentListenerIsRefused() {
        // given
        Peer client = plain(Listener.AGENT);

        // when
        client.send(new Frame.Hello(Protocol.VERSION, Role.CLIENT, DB, DB_TOKEN, Protocol.DEFAULT_WINDOW));

        // then
        assertThat(client.welcome()).isEqualTo(Frame.Welcome.refuse(EndReason.DENIED,
                "this is the agent listener; clients use the client listener"));
        assertThat(client.closedByRelay()).isTrue();
        assertThat(client.timersLeft()).isFalse();
        assertThat(authenticatorCalls.get()).as("not even a valid token makes a client an agent").isZero();
        assertThat(relay.registry.agents()).isEmpty();
        // (counted among rejected agents, but not reported to the AgentListener)
        assertThat(stats()).isEqualTo(new RelayStats(0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0));
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
                "unsupported protocol version 3; this relay speaks 2"));
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
        client.send(clientHello(Role.CLIENT, DB));

        // then
        assertThat(client.closedByRelay()).isTrue();
        assertThat(client.received()).isEmpty();
        assertThat(client.timersLeft()).isFalse();
        assertThat(authorizerCalls.get()).isZero();
        assertThat(denials).isEmpty();
        assertThat(stats()).isEqualTo(new RelayStats(0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0));
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
        client.send(clientHello(Role.CLIENT, DB));

        // then: closed unanswered (this is a broken relay, not a client to tell anything)
        assertThat(client.closedByRelay()).isTrue();
        assertThat(client.received()).isEmpty();
        assertThat(authorizerCalls.get()).isZero();
        assertThat(relay.registry.allWatchers()).isEmpty();
        assertThat(stats()).isEqualTo(new RelayStats(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
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
        client.send(clientHello(Role.CLIENT, DB));

        // then
        String reason = "certificate is for forward shop/cache, not shop/db";
        assertThat(client.welcome()).isEqualTo(Frame.Welcome.refuse(EndReason.DENIED, reason));
        assertThat(client.closedByRelay()).isTrue();
        assertThat(client.timersLeft()).isFalse();
        assertThat(authorizerCalls.get()).isZero();
        assertThat(stats()).isEqualTo(new RelayStats(0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0));
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
        client.send(clientHello(Role.CLIENT, DB));

        // then
        assertThat(client.welcome()).isEqualTo(Frame.Welcome.refuse(EndReason.DENIED,
                "certificate expired at " + expired));
        assertThat(client.closedByRelay()).isTrue();
        assertThat(authorizerCalls.get()).isZero();
        assertThat(stats()).isEqualTo(new RelayStats(0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0));
    }

    @Test
    @DisplayName("a control connection with a valid certificate is admitted, watched, and forgotten when it leaves")
    void controlConnectionIsAdmittedAndForgotten() {
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
        assertThat(relay.controls).hasSize(1);
        // and once it leaves, nothing of it stays: no watcher, no control entry, no timer (the expiry included)
        probe.hangUp();
        assertThat(relay.registry.allWatchers()).isEmpty();
        assertThat(relay.controls).isEmpty();
        assertThat(probe.timersLeft()).isFalse();
        assertThat(stats()).isEqualTo(new RelayStats(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
    }

    @Test
    @DisplayName("an authorised session while no agent is connected is refused as unavailable, naming the user; the"
            + " control connection stays")
    void sessionWithoutAgentIsRefused() {
        // given: alice's control connection, admitted
        Peer client = aliceClient();

        // when
        client.send(new Frame.Session(1));

        // then: the request is reset, not the connection
        String reason = "no agent is connected for forward shop/db";
        assertThat(client.fresh()).containsExactly(new Frame.Reset(1, EndReason.AGENT_UNAVAILABLE, reason));
        assertThat(client.closedByRelay()).isFalse();
        assertThat(relay.registry.allSessions()).isEmpty();
        assertThat(relay.tickets).isEmpty();
        assertThat(openings).isEmpty();
        assertThat(stats()).isEqualTo(new RelayStats(0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0));
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
    @DisplayName("a control connection the authorizer refuses gets the authorizer's reason")
    void authorizerRefusalIsPassedOn(String what, String user, String forward, String uid, String reason) {
        // given: a valid certificate for exactly the forward asked for
        KeyMaterial key = clientKey(user, forward, uid, NOW.plus(Duration.ofHours(1)));
        Peer client = tls(CLIENT_LISTENER_TLS, Listener.CLIENT, TlsContexts.client(CA.certificate(), key));

        // when
        client.send(clientHello(Role.CLIENT, forward));

        // then
        assertThat(client.welcome()).isEqualTo(Frame.Welcome.refuse(EndReason.DENIED, reason));
        assertThat(client.closedByRelay()).isTrue();
        assertThat(client.timersLeft()).isFalse();
        assertThat(authorizerCalls.get()).isEqualTo(1);
        assertThat(stats()).isEqualTo(new RelayStats(0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0));
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
        assertThat(stats()).isEqualTo(new RelayStats(0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0));
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
        // (counted as a handshake timeout)
        assertThat(stats()).isEqualTo(new RelayStats(0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0));
    }

    static Stream<Arguments> silentPeers() {
        byte[] hello = bytes(encode(agentHello(DB, DB_TOKEN)));
        byte[] half = Arrays.copyOf(hello, hello.length / 2);
        return Stream.of(Listener.values()).flatMap(listener -> Stream.of(
                arguments(listener, "nothing sent", new byte[0]),
                arguments(listener, "half a HELLO sent", half)));
    }

    @ParameterizedTest(name = "{0} listener, {1}")
    @MethodSource("silentSniffedPeers")
    @DisplayName("the listener's real pipeline gives a connection the same handshake timeout, from accept, whatever it"
            + " turns out to be")
    void handshakeTimeoutRunsFromTheSniffer(Listener listener, String what, byte[] sent, int tlsFailures) {
        // given: the sniffer first, as the relay installs it; what is sent may make it hand over to TLS and admission
        RawPeer peer = raw(listener).send(sent);

        // when / then
        peer.advance(HANDSHAKE_TIMEOUT.minusMillis(1));
        assertThat(peer.closedByRelay()).isFalse();
        peer.advance(Duration.ofMillis(1));
        assertThat(peer.closedByRelay()).isTrue();
        assertThat(peer.timersLeft()).isFalse();
        // (a TLS handshake begun and cut short by the deadline also counts as a failed TLS handshake)
        assertThat(stats()).isEqualTo(new RelayStats(0, 0, 0, 0, 0, 0, tlsFailures, 1, 0, 0, 0, 0, 0));
    }

    static Stream<Arguments> silentSniffedPeers() {
        byte[] tlsRecordStart = {0x16, 0x03, 0x01};
        byte[] preamble = clientPreamble(new byte[200]);
        byte[] halfPreamble = Arrays.copyOf(preamble, preamble.length / 2);
        return Stream.of(Listener.values()).flatMap(listener -> Stream.of(
                arguments(listener, "nothing sent", new byte[0], 0),
                arguments(listener, "the start of a TLS record", tlsRecordStart, 1),
                arguments(listener, "half a data preamble", halfPreamble, 0)));
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
        assertThat(relay.controls).isEmpty();
        assertThat(relay.tickets).isEmpty();
        assertThat(stats()).isEqualTo(new RelayStats(0, 0, 0, 200, 200, 200, 0, 200, 0, 0, 0, 0, 0));
        assertThat(denials).hasSize(200);
        assertThat(agentRejections).hasSize(200);
        assertThat(authenticatorCalls.get()).isEqualTo(300);
        assertThat(authorizerCalls.get()).isZero();
        // and the relay still admits
        Peer agent = plain(Listener.AGENT).send(agentHello(DB, DB_TOKEN));
        assertThat(agent.welcome().accepted()).isTrue();
        assertThat(relay.registry.agents()).hasSize(1);
    }

    // 7. session requests

    @Test
    @DisplayName("a session asked for on an admitted control connection is decided afresh and granted with a pass sealed"
            + " by the relay, naming the session, the client and where it may open; nothing is recorded or dialled yet")
    void sessionIsGrantedWithASealedPass() throws Exception {
        // given
        Peer agent = dbAgent();
        Peer client = aliceClient();

        // when
        client.send(new Frame.Session(1));

        // then: the client's GRANT carries the sealed pass
        List<Frame> toClient = client.fresh();
        assertThat(toClient).singleElement().isInstanceOf(Frame.Grant.class);
        Frame.Grant grant = (Frame.Grant) toClient.get(0);
        assertThat(grant.streamId()).isEqualTo(1);
        // and the pass says what the replica its data connection reaches checks and opens
        SessionPass pass = relay.passes.open(grant.pass());
        assertThat(pass.sessionId()).isEqualTo(grant.sessionId());
        assertThat(pass.identity()).isEqualTo(ClientIdentity.fromCertificate(ALICE_DB.certificate()));
        assertThat(pass.certificateSha256()).isEqualTo(CertificateDigest.sha256(ALICE_DB.certificate()));
        assertThat(pass.clientAddress()).isEqualTo(PEER.getAddress());
        assertThat(pass.external()).isFalse();
        assertThat(pass.issuer()).isEqualTo(relay.replica);
        assertThat(relay.controls).containsOnlyKeys(pass.controlId());
        assertThat(pass.requestId()).isEqualTo(1);
        assertThat(pass.validUntil()).isEqualTo(NOW.plus(HANDSHAKE_TIMEOUT));
        // and nothing else happened: no DIAL, no audit record, no session, no ticket
        assertThat(agent.fresh()).isEmpty();
        assertThat(openings).isEmpty();
        assertThat(relay.tickets).isEmpty();
        assertThat(relay.registry.allSessions()).isEmpty();
        assertThat(authorizerCalls.get()).as("once for the connection, once for the session").isEqualTo(2);
        assertThat(client.closedByRelay()).isFalse();
        assertThat(stats()).isEqualTo(new RelayStats(1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
        assertThat(denials).isEmpty();
    }

    @Test
    @DisplayName("each session asked for gets its own pass: another session id, another request id")
    void eachSessionGetsItsOwnPass() throws Exception {
        // given
        Granted first = granted();

        // when
        Granted second = grant(first.client(), first.agent(), 3);

        // then
        assertThat(second.sessionId()).isNotEqualTo(first.sessionId());
        assertThat(second.pass()).isNotEqualTo(first.pass());
        assertThat(relay.passes.open(second.pass()).requestId()).isEqualTo(3);
        assertThat(relay.passes.open(first.pass()).requestId()).isEqualTo(1);
    }

    @Test
    @DisplayName("a session the authorizer refuses after the connection was admitted is reset with its reason; the"
            + " connection stays")
    void sessionRefusedByTheAuthorizerIsReset() {
        // given: admitted, then alice leaves the forward's audience
        Peer agent = dbAgent();
        Peer client = aliceClient();
        String reason = "alice is not in the audience of forward shop/db";
        policy = Decision.deny(reason);

        // when
        client.send(new Frame.Session(1));

        // then
        assertThat(client.fresh()).as("no pass").containsExactly(new Frame.Reset(1, EndReason.DENIED, reason));
        assertThat(client.closedByRelay()).isFalse();
        assertThat(agent.fresh()).as("no DIAL").isEmpty();
        assertThat(openings).isEmpty();
        assertThat(relay.tickets).isEmpty();
        assertThat(denials).singleElement().satisfies(d -> {
            assertThat(d.identity().username()).isEqualTo("alice");
            assertThat(d.reason()).isEqualTo(EndReason.DENIED);
            assertThat(d.message()).isEqualTo(reason);
        });
        assertThat(stats()).isEqualTo(new RelayStats(1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0));
    }

    @Test
    @DisplayName("a session whose opening the audit trail cannot record is refused (fail closed) on its data connection:"
            + " no DIAL, no ticket, nothing left behind")
    void unrecordedSessionIsRefused() {
        // given: granted while the audit trail worked, which it no longer does when the pass is presented
        Granted granted = granted();
        auditFailure = new IllegalStateException("audit log unavailable");

        // when
        RawPeer data = raw(Listener.CLIENT).send(clientPreamble(granted.pass()),
                "early".getBytes(StandardCharsets.US_ASCII));

        // then: the client's data connection is told why and closed
        assertThat(refusal(data)).isEqualTo(new DataRefusal(EndReason.DENIED,
                "the relay could not record this session in the audit trail, so it is refused; try again"));
        assertThat(data.closedByRelay()).isTrue();
        assertThat(data.timersLeft()).isFalse();
        assertThat(granted.agent().fresh()).as("the agent is never asked to dial").isEmpty();
        assertThat(relay.tickets).isEmpty();
        assertThat(relay.registry.allSessions()).isEmpty();
        assertThat(closings).as("a session that never started has no close record").isEmpty();
        assertThat(denials).as("not a denial: the session was allowed, only not recorded").isEmpty();
        assertThat(stats()).isEqualTo(new RelayStats(1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1));
        // and the control connection, which never heard of a session opening, goes on
        assertThat(granted.client().fresh()).isEmpty();
        assertThat(granted.client().closedByRelay()).isFalse();
    }

    @Test
    @DisplayName("a session over the forward's session limit is granted, then refused where it opens, with the limit"
            + " named; the first goes on")
    void sessionOverTheLimitIsRefused() {
        // given: a forward limited to one session, which has it
        maxSessions = 1;
        Opened first = opened();
        // (a grant holds no slot: the limit counts sessions, on the replica they open on)
        Granted second = grant(first.client(), first.agent(), 3);

        // when
        RawPeer data = raw(Listener.CLIENT).send(clientPreamble(second.pass()));

        // then
        String reason = "forward shop/db already has its maximum of 1 sessions";
        assertThat(refusal(data)).isEqualTo(new DataRefusal(EndReason.DENIED, reason));
        assertThat(data.closedByRelay()).isTrue();
        assertThat(first.agent().fresh()).as("no second DIAL").isEmpty();
        assertThat(first.client().fresh()).isEmpty();
        assertThat(relay.tickets).containsOnlyKeys(first.ticket());
        assertThat(openings).hasSize(1);
        assertThat(denials).singleElement().satisfies(d -> assertThat(d.message()).isEqualTo(reason));
        assertThat(first.data().closedByRelay()).isFalse();
        assertThat(stats()).isEqualTo(new RelayStats(1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badRequestIds")
    @DisplayName("a session request id that is even or not above the last is a protocol error that closes the control"
            + " connection; its sessions still being set up are cancelled")
    void badRequestIdIsAProtocolError(String what, List<Integer> ids, String error) {
        // given: the requests before the bad one granted, and opened on their data connections
        Peer agent = dbAgent();
        Peer client = aliceClient();
        List<RawPeer> waiting = new ArrayList<>();
        for (int id : ids.subList(0, ids.size() - 1)) {
            waiting.add(open(grant(client, agent, id)).data());
        }

        // when
        client.send(new Frame.Session(ids.get(ids.size() - 1)));

        // then: the relay says why and closes after its grace period
        assertThat(client.fresh()).containsExactly(new Frame.GoAway(EndReason.PROTOCOL_ERROR, error));
        client.advance(Duration.ofSeconds(1));
        assertThat(client.closedByRelay()).isTrue();
        assertThat(agent.closedByRelay()).isFalse();
        // and what was opened from it ends, unpaired, as the client's doing (so it is told nothing)
        assertThat(waiting).allSatisfy(data -> {
            assertThat(data.closedByRelay()).isTrue();
            assertThat(data.received()).isEmpty();
        });
        assertThat(relay.tickets).isEmpty();
        assertThat(relay.registry.allSessions()).isEmpty();
        assertThat(relay.registry.allWatchers()).isEmpty();
        assertThat(relay.controls).isEmpty();
        assertThat(closings).hasSize(waiting.size())
                .allSatisfy(closed -> assertThat(closed.reason()).isEqualTo(EndReason.CLIENT_CLOSED));
        assertThat(stats()).isEqualTo(new RelayStats(1, 0, waiting.size(), 0, 0, 1, 0, 0, 0, 0, 0, 0, 0));
    }

    static Stream<Arguments> badRequestIds() {
        return Stream.of(
                arguments("an id below the last", List.of(3, 1), "session request 1 after 3: request ids are odd and"
                        + " increasing"),
                arguments("an id repeated", List.of(1, 1), "session request 1 after 1: request ids are odd and"
                        + " increasing"),
                arguments("an even id", List.of(2), "session request 2 after 0: request ids are odd and increasing"));
    }

    @Test
    @DisplayName("a client's RESET of a session that waits for its agent's data connection cancels it: ticket void,"
            + " closed as the client's doing")
    void clientResetCancelsAGrantedSession() {
        // given: opened, the agent told to dial, its data connection not here yet
        Opened session = opened();

        // when
        session.client().send(new Frame.Reset(1, EndReason.CANCELLED, "client closed the connection"));

        // then
        assertThat(relay.tickets).isEmpty();
        assertThat(relay.registry.allSessions()).isEmpty();
        assertThat(closings).singleElement().satisfies(closed -> {
            assertThat(closed.sessionId()).isEqualTo(session.sessionId());
            assertThat(closed.reason()).isEqualTo(EndReason.CLIENT_CLOSED);
            assertThat(closed.bytesFromClient() + closed.bytesToClient()).isZero();
        });
        assertThat(session.data().closedByRelay()).isTrue();
        assertThat(session.data().received()).as("the client knows; nothing is sent back").isEmpty();
        assertThat(session.client().fresh()).isEmpty();
        assertThat(session.client().closedByRelay()).isFalse();
        assertThat(stats()).isEqualTo(new RelayStats(1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
        // and the agent, dialling late, finds the ticket void
        RawPeer late = raw(Listener.AGENT).send(agentPreamble(session.ticket()));
        assertThat(late.closedByRelay()).isTrue();
        assertThat(stats().dataConnectionsRefused()).isEqualTo(1);
    }
}
