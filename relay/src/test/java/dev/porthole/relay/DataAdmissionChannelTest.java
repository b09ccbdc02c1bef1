package dev.porthole.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import dev.porthole.protocol.DataPreamble;
import dev.porthole.protocol.DataRefusal;
import dev.porthole.protocol.EndReason;
import dev.porthole.protocol.Frame;
import dev.porthole.protocol.Protocol;
import dev.porthole.protocol.SessionTicket;
import dev.porthole.protocol.pki.CertificateDigest;
import io.netty.channel.embedded.EmbeddedChannel;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A session's two data connections at the relay, on Netty's {@link EmbeddedChannel}: each arrives at its listener's
 * real first handler (the sniffer, which sees the preamble's 'P' and hands over to {@link DataAdmission}). The client's
 * presents the sealed pass its control connection was granted (alice's over real TLS; see
 * {@link AdmissionTestSupport}), and the relay opens the session from it and tells the agent to dial; the agent's
 * presents the ticket of that DIAL, and the two are spliced. What follows a preamble is the client's and the agent's
 * end-to-end TLS; the relay passes it on unread, so arbitrary bytes stand for it here. The checks of a pass itself (forged,
 * expired, spent, revoked meanwhile ...) are {@link SessionOpeningChannelTest}'s.
 */
class DataAdmissionChannelTest extends AdmissionTestSupport {

    private static final InetSocketAddress ELSEWHERE = new InetSocketAddress("198.51.100.7", 40001);
    /** Stand-ins for the end-to-end TLS bytes: arbitrary, one of them even shaped like a preamble. */
    private static final byte[] CLIENT_HELLO = randomBytes(1, 517);
    private static final byte[] SERVER_HELLO = randomBytes(2, 2048);
    private static final byte[] FROM_CLIENT = concat(agentPreamble(SessionTicket.random()), randomBytes(3, 70_000));
    private static final byte[] FROM_AGENT = randomBytes(4, 9000);

    // 1. the preamble

    @ParameterizedTest(name = "{0} listener, {1}")
    @MethodSource("malformedPreambles")
    @DisplayName("a data connection with a malformed preamble is closed without a word, counted as refused")
    void malformedPreambleIsRefused(Listener listener, String what, byte[] preamble) {
        // given: an opened session, as a bystander
        Opened session = opened(CLIENT_HELLO);
        RawPeer data = raw(listener);

        // when
        data.send(preamble, CLIENT_HELLO);

        // then
        assertThat(data.closedByRelay()).isTrue();
        assertThat(data.received()).isEmpty();
        assertThat(data.timersLeft()).isFalse();
        assertThat(stats()).isEqualTo(new RelayStats(1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1));
        assertThat(relay.tickets).containsOnlyKeys(session.ticket());
        assertThat(session.client().fresh()).isEmpty();
        assertThat(session.agent().fresh()).isEmpty();
        assertThat(denials).isEmpty();
    }

    static Stream<Arguments> malformedPreambles() {
        byte[] good = clientPreamble(randomBytes(6, 200));
        byte[] badMagic = good.clone();
        badMagic[3] = 'X'; // "PRTX": the sniffer sees 'P', the preamble is no Porthole's
        byte[] oldVersion = good.clone();
        oldVersion[5] = 1;
        byte[] newVersion = good.clone();
        newVersion[5] = (byte) (Protocol.VERSION + 1);
        byte[] noSide = good.clone();
        noSide[6] = 0;
        byte[] unknownSide = good.clone();
        unknownSide[6] = 3;
        byte[] empty = Arrays.copyOf(good, DataPreamble.HEADER_LENGTH);
        empty[7] = 0;
        empty[8] = 0;
        byte[] overlong = good.clone(); // announces 1025 bytes: refused before they are waited for
        overlong[7] = (byte) ((DataPreamble.MAX_CREDENTIAL + 1) >> 8);
        overlong[8] = (byte) (DataPreamble.MAX_CREDENTIAL + 1);
        byte[] shortTicket = agentPreamble(SessionTicket.random());
        shortTicket[8] = SessionTicket.LENGTH - 1;
        List<Arguments> preambles = List.of(
                arguments("bad magic", badMagic),
                arguments("an HTTP PUT, which starts with 'P' too", "PUT /upload HTTP/1.1\r\nHost: relay\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII)),
                arguments("protocol version 1", oldVersion),
                arguments("protocol version " + (Protocol.VERSION + 1), newVersion),
                arguments("side 0", noSide),
                arguments("unknown side 3", unknownSide),
                arguments("an empty credential", empty),
                arguments("a credential over " + DataPreamble.MAX_CREDENTIAL + " bytes", overlong),
                arguments("an agent's ticket one byte short", Arrays.copyOf(shortTicket, shortTicket.length - 1)));
        return Stream.of(Listener.values()).flatMap(listener -> preambles.stream()
                .map(preamble -> arguments(listener, preamble.get()[0], preamble.get()[1])));
    }

    // 2. tickets

    @Test
    @DisplayName("a ticket the relay never sent an agent is refused without a word; the waiting session is unaffected")
    void unknownTicketIsRefused() {
        // given
        Opened session = opened(CLIENT_HELLO);
        RawPeer stranger = raw(Listener.AGENT);

        // when
        stranger.send(agentPreamble(SessionTicket.random()), SERVER_HELLO);

        // then
        assertThat(stranger.closedByRelay()).isTrue();
        assertThat(stranger.received()).isEmpty();
        assertThat(stats().dataConnectionsRefused()).isEqualTo(1);
        // and the session still pairs as if nothing happened
        assertThat(session.data().closedByRelay()).isFalse();
        RawPeer agent = raw(Listener.AGENT).send(agentPreamble(session.ticket()), SERVER_HELLO);
        assertThat(agent.received()).isEqualTo(CLIENT_HELLO);
        assertThat(session.data().received()).isEqualTo(SERVER_HELLO);
        assertThat(session.client().fresh()).isEmpty();
    }

    @Test
    @DisplayName("a pass opens one session and a ticket takes one agent connection: replays are refused, the first"
            + " connections are unaffected")
    void passAndTicketAreGoodOnce() {
        // given: the session opened from alice's pass, the agent told to dial
        Opened session = opened(CLIENT_HELLO);
        byte[] pass = clientPreamble(session.grant().pass());

        // when: the same pass again, as someone who saw it in the clear would send it
        RawPeer replay = raw(Listener.CLIENT).send(pass, "replayed".getBytes(StandardCharsets.US_ASCII));

        // then: it is told it was used, and no second session opens
        String used = "session pass for " + session.sessionId() + " was used already";
        assertThat(refusal(replay)).isEqualTo(new DataRefusal(EndReason.DENIED, used));
        assertThat(replay.closedByRelay()).isTrue();
        assertThat(session.agent().fresh()).as("no second DIAL").isEmpty();
        assertThat(session.data().closedByRelay()).isFalse();
        assertThat(stats()).isEqualTo(new RelayStats(1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1));
        // and the first still pairs, carrying its own bytes only
        RawPeer agent = raw(Listener.AGENT).send(agentPreamble(session.ticket()));
        assertThat(agent.received()).isEqualTo(CLIENT_HELLO);
        // and once paired the ticket is gone: a second agent connection is refused as unknown, the pass still as used
        assertThat(relay.tickets).isEmpty();
        RawPeer lateAgent = raw(Listener.AGENT).send(agentPreamble(session.ticket()));
        RawPeer lateClient = raw(Listener.CLIENT).send(pass);
        assertThat(lateAgent.closedByRelay()).isTrue();
        assertThat(lateAgent.received()).isEmpty();
        assertThat(refusal(lateClient)).isEqualTo(new DataRefusal(EndReason.DENIED, used));
        assertThat(stats().dataConnectionsRefused()).isEqualTo(3);
        assertThat(session.data().closedByRelay()).isFalse();
        assertThat(agent.closedByRelay()).isFalse();
        assertThat(stats().sessionsActive()).isEqualTo(1);
        assertThat(openings).hasSize(1);
    }

    // 3. where each side comes from

    @Test
    @DisplayName("a client presenting its pass on the agent listener is refused without a word; the pass stays good")
    void clientOnTheAgentListenerIsRefused() {
        // given
        Granted granted = granted();

        // when
        RawPeer data = raw(Listener.AGENT).send(clientPreamble(granted.pass()), CLIENT_HELLO);

        // then
        assertThat(data.closedByRelay()).isTrue();
        assertThat(data.received()).isEmpty();
        assertThat(stats().dataConnectionsRefused()).isEqualTo(1);
        assertThat(granted.agent().fresh()).isEmpty();
        // and the client may still come through its own listener
        Opened session = open(granted);
        assertThat(session.data().closedByRelay()).isFalse();
        assertThat(stats().dataConnectionsRefused()).isEqualTo(1);
    }

    @Test
    @DisplayName("an agent presenting its ticket on the client listener is refused without a word; the session is"
            + " unaffected")
    void agentOnTheClientListenerIsRefused() {
        // given
        Opened session = opened(CLIENT_HELLO);

        // when
        RawPeer data = raw(Listener.CLIENT).send(agentPreamble(session.ticket()), SERVER_HELLO);

        // then
        assertThat(data.closedByRelay()).isTrue();
        assertThat(data.received()).isEmpty();
        assertThat(stats().dataConnectionsRefused()).isEqualTo(1);
        // and the agent may still come through its own listener
        assertThat(relay.tickets).containsOnlyKeys(session.ticket());
        RawPeer right = raw(Listener.AGENT).send(agentPreamble(session.ticket()));
        assertThat(right.closedByRelay()).isFalse();
        assertThat(right.received()).isEqualTo(CLIENT_HELLO);
        assertThat(stats().dataConnectionsRefused()).isEqualTo(1);
    }

    @Test
    @DisplayName("a client data connection from another address than the session's control connection is refused,"
            + " told why; the pass stays good for its holder")
    void clientFromAnotherAddressIsRefused() {
        // given: the session was granted to alice at PEER
        Granted granted = granted();

        // when: its pass arrives from elsewhere
        RawPeer data = raw(Listener.CLIENT, ELSEWHERE).send(clientPreamble(granted.pass()), CLIENT_HELLO);

        // then
        String reason = "the data connection came from 198.51.100.7, the session was granted to 192.0.2.10";
        assertThat(refusal(data)).isEqualTo(new DataRefusal(EndReason.DENIED, reason));
        assertThat(data.closedByRelay()).isTrue();
        assertThat(stats()).isEqualTo(new RelayStats(1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1));
        assertThat(denials).singleElement().satisfies(d -> {
            assertThat(d.clientAddress()).isEqualTo(ELSEWHERE);
            assertThat(d.message()).isEqualTo(reason);
        });
        assertThat(granted.client().fresh()).isEmpty();
        assertThat(granted.agent().fresh()).as("no DIAL").isEmpty();
        // and alice's own data connection still opens the session (the pass was not spent)
        Opened own = open(granted);
        assertThat(own.data().closedByRelay()).isFalse();
    }

    @Test
    @DisplayName("an agent's data connection is not held to its control connection's address (the end-to-end TLS"
            + " handshake proves the agent)")
    void agentFromAnyAddressJoins() {
        // given
        Opened session = opened(CLIENT_HELLO);

        // when
        RawPeer agent = raw(Listener.AGENT, ELSEWHERE).send(agentPreamble(session.ticket()));

        // then
        assertThat(agent.closedByRelay()).isFalse();
        assertThat(agent.received()).isEqualTo(CLIENT_HELLO);
        assertThat(stats().dataConnectionsRefused()).isZero();
    }

    @Test
    @DisplayName("a client data connection through the external listener for a session granted on the in-cluster one is"
            + " refused, told why")
    void clientThroughAnotherListenerKindIsRefused() {
        // given
        Granted granted = granted();

        // when: same address, other listener kind
        RawPeer data = rawExternal(PEER).send(clientPreamble(granted.pass()), CLIENT_HELLO);

        // then
        assertThat(refusal(data)).isEqualTo(new DataRefusal(EndReason.DENIED,
                "the data connection came through another listener than the session's control connection"));
        assertThat(data.closedByRelay()).isTrue();
        assertThat(stats()).isEqualTo(new RelayStats(1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1));
        assertThat(relay.tickets).isEmpty();
        assertThat(granted.agent().fresh()).isEmpty();
        // and the in-cluster listener still takes it
        assertThat(open(granted).data().closedByRelay()).isFalse();
    }

    // 4. opening and pairing

    @Test
    @DisplayName("the client's data connection with its pass opens the session: decided afresh, recorded, then the agent"
            + " is told to dial with a fresh ticket and the client's certificate digest")
    void passOpensTheSession() {
        // given
        Granted granted = granted();

        // when
        RawPeer data = raw(Listener.CLIENT).send(clientPreamble(granted.pass()), CLIENT_HELLO);

        // then: the agent's DIAL names the session, a ticket for its own data connection, and who may connect
        List<Frame> toAgent = granted.agent().fresh();
        assertThat(toAgent).singleElement().isInstanceOf(Frame.Dial.class);
        Frame.Dial dial = (Frame.Dial) toAgent.get(0);
        assertThat(dial).isEqualTo(new Frame.Dial(1, granted.sessionId(), dial.ticket(),
                CertificateDigest.sha256(ALICE_DB.certificate())));
        // and the opening was recorded first, with the session's id and who asked
        assertThat(openings).singleElement().satisfies(opened -> {
            assertThat(opened.sessionId()).isEqualTo(granted.sessionId());
            assertThat(opened.identity().username()).isEqualTo("alice");
            assertThat(opened.clientAddress()).isEqualTo(PEER);
            assertThat(opened.forward()).isEqualTo(ref(DB));
        });
        // and the relay waits for the agent's data connection; what the client sent waits with it
        assertThat(relay.tickets).containsOnlyKeys(dial.ticket());
        assertThat(relay.registry.sessions(ref(DB))).singleElement()
                .satisfies(session -> assertThat(session.id()).isEqualTo(granted.sessionId()));
        assertThat(authorizerCalls.get()).as("for the connection, the grant, and the opening").isEqualTo(3);
        assertThat(data.closedByRelay()).isFalse();
        assertThat(data.received()).as("nothing said: the agent's TLS answer comes next").isEmpty();
        assertThat(data.timersLeft()).as("the pairing timeout and the session's expiry").isTrue();
        assertThat(granted.client().fresh()).isEmpty();
        assertThat(stats()).isEqualTo(new RelayStats(1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
        assertThat(denials).isEmpty();
    }

    @ParameterizedTest(name = "agent's first bytes with its preamble: {0}")
    @ValueSource(booleans = {true, false})
    @DisplayName("both sides are spliced: bytes pass unchanged both ways, early ones included")
    void pairedSidesPassBytesUnchanged(boolean agentSendsWithPreamble) {
        // given: the client arrived with its first bytes, then the agent
        Opened session = opened(CLIENT_HELLO);
        RawPeer client = session.data();
        RawPeer agent = agentSendsWithPreamble
                ? raw(Listener.AGENT).send(agentPreamble(session.ticket()), SERVER_HELLO)
                : raw(Listener.AGENT).send(agentPreamble(session.ticket())).send(SERVER_HELLO);
        assertThat(agent.received()).as("what the client sent with its preamble").isEqualTo(CLIENT_HELLO);
        assertThat(agent.relaySide.eventLoop()).as("the agent's side moved to the client's event loop")
                .isSameAs(client.relaySide.eventLoop());

        // when
        client.send(FROM_CLIENT);
        agent.send(FROM_AGENT);

        // then
        assertThat(agent.received()).isEqualTo(concat(CLIENT_HELLO, FROM_CLIENT));
        assertThat(client.received()).isEqualTo(concat(SERVER_HELLO, FROM_AGENT));
        assertThat(client.closedByRelay()).isFalse();
        assertThat(agent.closedByRelay()).isFalse();
        assertThat(relay.tickets).isEmpty();
        assertThat(session.client().fresh()).as("nothing on the control connection").isEmpty();
        assertThat(session.agent().fresh()).isEmpty();
        assertThat(stats()).isEqualTo(new RelayStats(1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
        assertThat(closings).isEmpty();
    }

    @ParameterizedTest(name = "the {0} side hangs up")
    @EnumSource(DataPreamble.Side.class)
    @DisplayName("when one side of a paired session closes, the other is closed and the session ends once, with its"
            + " bytes counted")
    void closingOneSideEndsTheSession(DataPreamble.Side leaving) {
        // given: a paired session that carried bytes both ways
        Opened session = opened(CLIENT_HELLO);
        RawPeer client = session.data();
        RawPeer agent = raw(Listener.AGENT).send(agentPreamble(session.ticket()), SERVER_HELLO);
        client.send(FROM_CLIENT);
        agent.send(FROM_AGENT);

        // when
        (leaving == DataPreamble.Side.CLIENT ? client : agent).hangUp();

        // then: the other side got everything sent before, then was closed
        assertThat(client.closedByRelay()).isTrue();
        assertThat(agent.closedByRelay()).isTrue();
        assertThat(agent.received()).isEqualTo(concat(CLIENT_HELLO, FROM_CLIENT));
        assertThat(client.received()).isEqualTo(concat(SERVER_HELLO, FROM_AGENT));
        // and once the agent's report of why had a second to arrive (it sends none here), the session ended once,
        // counted, forgotten; the clock that counts is the event loop the session opened on, the client's
        assertThat(closings).isEmpty();
        client.advance(Duration.ofMillis(ClientSession.REPORT_GRACE_MILLIS));
        assertThat(closings).singleElement().satisfies(closed -> {
            assertThat(closed.sessionId()).isEqualTo(session.sessionId());
            assertThat(closed.identity().username()).isEqualTo("alice");
            assertThat(closed.forward()).isEqualTo(ref(DB));
            assertThat(closed.bytesFromClient()).isEqualTo(CLIENT_HELLO.length + FROM_CLIENT.length);
            assertThat(closed.bytesToClient()).isEqualTo(SERVER_HELLO.length + FROM_AGENT.length);
        });
        assertThat(relay.registry.allSessions()).isEmpty();
        assertThat(relay.tickets).isEmpty();
        assertThat(client.timersLeft()).as("no timer of the session is left").isFalse();
        assertThat(stats()).isEqualTo(new RelayStats(1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
        // and the client's control connection, which outlives its sessions, was not touched
        assertThat(session.client().closedByRelay()).isFalse();
        assertThat(session.client().fresh()).isEmpty();
    }

    @Test
    @DisplayName("a client that sends more than 64 KiB before the agent's side is here is cut off, and the session ends"
            + " at once: the agent, arriving later, is refused")
    void tooManyEarlyBytesCutTheSideOff() {
        // given
        Granted granted = granted();

        // when: far more than a TLS ClientHello, before the agent's side is here to take it
        RawPeer client = raw(Listener.CLIENT).send(clientPreamble(granted.pass()),
                randomBytes(5, RelaySplice.MAX_EARLY_BYTES + 1));

        // then
        assertThat(client.closedByRelay()).isTrue();
        assertThat(closings).singleElement().satisfies(closed -> {
            assertThat(closed.reason()).isEqualTo(EndReason.CLIENT_CLOSED);
            assertThat(closed.bytesToClient()).isZero();
        });
        assertThat(relay.registry.allSessions()).isEmpty();
        assertThat(relay.tickets).isEmpty();
        // and an agent told to dial (if it was) finds the ticket void
        for (Frame frame : granted.agent().fresh()) {
            assertThat(frame).isInstanceOf(Frame.Dial.class);
            RawPeer agent = raw(Listener.AGENT).send(agentPreamble(((Frame.Dial) frame).ticket()), SERVER_HELLO);
            assertThat(agent.closedByRelay()).isTrue();
            assertThat(agent.received()).isEmpty();
        }
    }

    @Test
    @DisplayName("a paired session outlives its control connection; one still being set up does not")
    void pairedSessionOutlivesItsControlConnection() {
        // given: session 1 paired, session 3 opened with only its client side here
        Opened session = opened();
        RawPeer client = session.data();
        RawPeer agent = raw(Listener.AGENT).send(agentPreamble(session.ticket()));
        Opened second = open(grant(session.client(), session.agent(), 3));

        // when
        session.client().hangUp();

        // then
        assertThat(second.data().closedByRelay()).isTrue();
        assertThat(second.data().received()).as("cancelled as the client's doing: nothing to tell it").isEmpty();
        assertThat(closings).singleElement().satisfies(closed -> {
            assertThat(closed.sessionId()).isEqualTo(second.sessionId());
            assertThat(closed.reason()).isEqualTo(EndReason.CLIENT_CLOSED);
        });
        client.send(FROM_CLIENT);
        assertThat(agent.received()).isEqualTo(FROM_CLIENT);
        assertThat(client.closedByRelay()).isFalse();
        assertThat(stats().sessionsActive()).isEqualTo(1);
        assertThat(relay.controls).isEmpty();
    }

    // 5. sessions ended by the relay or the agent

    @Test
    @DisplayName("a session whose agent's data connection does not arrive within the handshake timeout is ended as"
            + " unavailable: the client hears why on both its connections, its data connection is closed")
    void pairingTimeoutEndsTheSession() {
        // given: only the client's side arrives
        Opened session = opened(CLIENT_HELLO);
        RawPeer client = session.data();

        // when / then: the clock that counts is the client data connection's, where the session opened
        client.advance(HANDSHAKE_TIMEOUT.minusMillis(1));
        assertThat(client.closedByRelay()).isFalse();
        assertThat(session.client().fresh()).isEmpty();
        client.advance(Duration.ofMillis(1));
        String message = "the agent's data connection did not reach the relay within 10 s";
        assertThat(session.client().fresh()).containsExactly(new Frame.Reset(1, EndReason.AGENT_UNAVAILABLE, message));
        assertThat(client.closedByRelay()).isTrue();
        assertThat(refusal(client)).isEqualTo(new DataRefusal(EndReason.AGENT_UNAVAILABLE, message));
        assertThat(closings).singleElement().satisfies(closed -> {
            assertThat(closed.reason()).isEqualTo(EndReason.AGENT_UNAVAILABLE);
            assertThat(closed.message()).isEqualTo(message);
            assertThat(closed.bytesFromClient()).isEqualTo(CLIENT_HELLO.length);
        });
        assertThat(relay.tickets).isEmpty();
        assertThat(relay.registry.allSessions()).isEmpty();
        assertThat(client.timersLeft()).isFalse();
        // and the agent, late, finds the ticket gone
        RawPeer late = raw(Listener.AGENT).send(agentPreamble(session.ticket()));
        assertThat(late.closedByRelay()).isTrue();
        assertThat(stats().dataConnectionsRefused()).isEqualTo(1);
        assertThat(session.client().closedByRelay()).isFalse();
    }

    @Test
    @DisplayName("a paired session ends when the client certificate expires: the client hears why, both data"
            + " connections close")
    void expiryEndsTheSession() {
        // given: a paired session; alice's certificate ends in an hour, before the forward does
        Opened session = opened(CLIENT_HELLO);
        RawPeer client = session.data();
        RawPeer agent = raw(Listener.AGENT).send(agentPreamble(session.ticket()));

        // when: the hour passes where the session runs
        client.advance(Duration.ofHours(1).plusSeconds(1));

        // then
        String message = "client certificate for shop/db expired at " + ALICE_DB.certificate().getNotAfter().toInstant();
        assertThat(session.client().fresh()).containsExactly(new Frame.Reset(1, EndReason.EXPIRED, message));
        assertThat(client.closedByRelay()).isTrue();
        assertThat(agent.closedByRelay()).isTrue();
        assertThat(client.received()).as("paired: the ends tell each other, the relay only closes").isEmpty();
        assertThat(closings).singleElement().satisfies(closed -> {
            assertThat(closed.reason()).isEqualTo(EndReason.EXPIRED);
            assertThat(closed.message()).isEqualTo(message);
        });
        assertThat(relay.registry.allSessions()).isEmpty();
        // and the control connection, on its own clock, ends at the same moment
        session.client().advance(Duration.ofHours(1).plusSeconds(1));
        assertThat(session.client().fresh().stream().filter(f -> !(f instanceof Frame.Ping)).toList())
                .as("(besides the keepalive ping an hour of silence brings)")
                .containsExactly(new Frame.GoAway(EndReason.EXPIRED, message));
    }

    @Test
    @DisplayName("a revoked forward's session is ended by the relay: the client hears why, both data connections close")
    void revocationEndsTheSession() {
        // given: a paired session
        Opened session = opened(CLIENT_HELLO);
        RawPeer client = session.data();
        RawPeer agent = raw(Listener.AGENT).send(agentPreamble(session.ticket()), SERVER_HELLO);

        // when: what RelayServer.closeForward does to the forward's sessions
        String message = "forward shop/db was revoked";
        relay.registry.sessions(ref(DB)).forEach(s -> s.terminate(EndReason.REVOKED, message));

        // then
        assertThat(session.client().fresh()).containsExactly(new Frame.Reset(1, EndReason.REVOKED, message));
        assertThat(client.closedByRelay()).isTrue();
        assertThat(agent.closedByRelay()).isTrue();
        assertThat(client.received()).isEqualTo(SERVER_HELLO);
        assertThat(closings).singleElement().satisfies(closed -> {
            assertThat(closed.reason()).isEqualTo(EndReason.REVOKED);
            assertThat(closed.message()).isEqualTo(message);
            assertThat(closed.bytesFromClient()).isEqualTo(CLIENT_HELLO.length);
            assertThat(closed.bytesToClient()).isEqualTo(SERVER_HELLO.length);
        });
        assertThat(relay.registry.allSessions()).isEmpty();
    }

    @Test
    @DisplayName("a session revoked before its agent's data connection came: the waiting client data connection is told"
            + " why, and so is its control connection")
    void revocationBeforePairingIsToldOnTheDataConnection() {
        // given: only the client's side is here
        Opened session = opened(CLIENT_HELLO);

        // when
        String message = "forward shop/db was revoked";
        relay.registry.sessions(ref(DB)).forEach(s -> s.terminate(EndReason.REVOKED, message));

        // then
        assertThat(refusal(session.data())).isEqualTo(new DataRefusal(EndReason.REVOKED, message));
        assertThat(session.data().closedByRelay()).isTrue();
        assertThat(session.client().fresh()).containsExactly(new Frame.Reset(1, EndReason.REVOKED, message));
        assertThat(closings).singleElement().satisfies(closed -> assertThat(closed.reason()).isEqualTo(EndReason.REVOKED));
        assertThat(relay.tickets).isEmpty();
        assertThat(relay.registry.allSessions()).isEmpty();
    }

    @Test
    @DisplayName("the agent's report that it could not reach the target names the paired session's end: TARGET_REFUSED")
    void agentReportEndsTheSession() {
        // given: a paired session
        Opened session = opened(CLIENT_HELLO);
        RawPeer client = session.data();
        RawPeer agent = raw(Listener.AGENT).send(agentPreamble(session.ticket()), SERVER_HELLO);

        // when: the agent reports the session's end on its control connection
        String message = "cannot connect to target db.shop.svc:5432: Connection refused";
        session.agent().send(new Frame.Ended(session.dial().streamId(), EndReason.TARGET_REFUSED, message, 0, 0));

        // then: the ends close their own connection, having told each other why (the relay does not cut it short)
        assertThat(client.closedByRelay()).isFalse();
        assertThat(closings).isEmpty();
        // when the client's side closes, the relay closes the agent's and the session ends as the agent reported
        client.relaySide.close();
        client.relaySide.runLoop();
        agent.relaySide.runLoop();
        assertThat(agent.closedByRelay()).isTrue();
        assertThat(closings).singleElement().satisfies(closed -> {
            assertThat(closed.reason()).isEqualTo(EndReason.TARGET_REFUSED);
            assertThat(closed.message()).isEqualTo(message);
        });
        assertThat(relay.registry.allSessions()).isEmpty();
        assertThat(session.agent().closedByRelay()).as("the agent's control connection goes on").isFalse();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dialRefusals")
    @DisplayName("an agent that refuses to dial ends the session at once: the client hears the agent's reason on both its"
            + " connections, its waiting data connection is closed")
    void agentRefusingToDialEndsTheSession(EndReason reason, String message) {
        // given: the client's side is here, waiting
        Opened session = opened(CLIENT_HELLO);

        // when: the agent answers the DIAL with ENDED instead of a data connection, as Agent.onControl does
        session.agent().send(new Frame.Ended(session.dial().streamId(), reason, message, 0, 0));

        // then: no waiting for the pairing timeout
        assertThat(session.client().fresh()).containsExactly(new Frame.Reset(1, reason, message));
        assertThat(session.data().closedByRelay()).isTrue();
        assertThat(refusal(session.data())).isEqualTo(new DataRefusal(reason, message));
        assertThat(closings).singleElement().satisfies(closed -> {
            assertThat(closed.reason()).isEqualTo(reason);
            assertThat(closed.message()).isEqualTo(message);
        });
        assertThat(relay.tickets).isEmpty();
        assertThat(relay.registry.allSessions()).isEmpty();
        assertThat(session.client().closedByRelay()).isFalse();
        assertThat(session.agent().closedByRelay()).isFalse();
    }

    static Stream<Arguments> dialRefusals() {
        return Stream.of(
                arguments(EndReason.AGENT_UNAVAILABLE, "the agent of forward shop/db already serves its maximum of 8"
                        + " sessions"),
                arguments(EndReason.AGENT_EXITED, "agent is stopping"));
    }

    @Test
    @DisplayName("losing the agent's control connection ends a session still being set up: the client hears why")
    void agentLostBeforePairingEndsTheSession() {
        // given: only the client's side is here
        Opened session = opened();

        // when
        session.agent().hangUp();

        // then
        String message = "agent connection lost before the session was set up";
        assertThat(session.client().fresh()).containsExactly(new Frame.Reset(1, EndReason.AGENT_LOST, message));
        assertThat(session.data().closedByRelay()).isTrue();
        assertThat(refusal(session.data())).isEqualTo(new DataRefusal(EndReason.AGENT_LOST, message));
        assertThat(closings).singleElement().satisfies(closed -> assertThat(closed.reason()).isEqualTo(EndReason.AGENT_LOST));
        assertThat(relay.tickets).isEmpty();
        assertThat(stats()).isEqualTo(new RelayStats(0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
    }

    // fixtures

    static byte[] randomBytes(long seed, int length) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }
}
