package dev.porthole.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import dev.porthole.protocol.DataPreamble;
import dev.porthole.protocol.EndReason;
import dev.porthole.protocol.Frame;
import dev.porthole.protocol.Protocol;
import dev.porthole.protocol.SessionTicket;
import io.netty.channel.embedded.EmbeddedChannel;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A granted session's two data connections at the relay, on Netty's {@link EmbeddedChannel}: each arrives at its
 * listener's real first handler (the sniffer, which sees the preamble's 'P' and hands over to {@link DataAdmission}),
 * presents the session's ticket, and is spliced to the other side. The session is granted on real control connections
 * first (alice's over real TLS, the agent's without; see {@link AdmissionTestSupport}). What follows a preamble is the
 * client's and the agent's end-to-end TLS; the relay passes it on unread, so arbitrary bytes stand for it here.
 */
class DataAdmissionChannelTest extends AdmissionTestSupport {

    private static final InetSocketAddress ELSEWHERE = new InetSocketAddress("198.51.100.7", 40001);
    /** Stand-ins for the end-to-end TLS bytes: arbitrary, one of them even shaped like a preamble. */
    private static final byte[] CLIENT_HELLO = randomBytes(1, 517);
    private static final byte[] SERVER_HELLO = randomBytes(2, 2048);
    private static final byte[] FROM_CLIENT = concat(preamble(DataPreamble.Side.AGENT, SessionTicket.random()),
            randomBytes(3, 70_000));
    private static final byte[] FROM_AGENT = randomBytes(4, 9000);

    // 1. the preamble

    @ParameterizedTest(name = "{0} listener, {1}")
    @MethodSource("malformedPreambles")
    @DisplayName("a data connection with a malformed preamble is closed without a word, counted as refused")
    void malformedPreambleIsRefused(Listener listener, String what, byte[] preamble) {
        // given: a granted session, as a bystander
        Granted session = granted();
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
    }

    static Stream<Arguments> malformedPreambles() {
        byte[] good = preamble(DataPreamble.Side.CLIENT, SessionTicket.random());
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
        List<Arguments> preambles = List.of(
                arguments("bad magic", badMagic),
                arguments("an HTTP PUT, which starts with 'P' too", "PUT /upload HTTP/1.1\r\nHost: relay\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII)),
                arguments("protocol version 1", oldVersion),
                arguments("protocol version " + (Protocol.VERSION + 1), newVersion),
                arguments("side 0", noSide),
                arguments("unknown side 3", unknownSide));
        return Stream.of(Listener.values()).flatMap(listener -> preambles.stream()
                .map(preamble -> arguments(listener, preamble.get()[0], preamble.get()[1])));
    }

    // 2. tickets

    @ParameterizedTest(name = "{0} side")
    @EnumSource(DataPreamble.Side.class)
    @DisplayName("a ticket the relay never granted is refused without a word; the live session is unaffected")
    void unknownTicketIsRefused(DataPreamble.Side side) {
        // given
        Granted session = granted();
        RawPeer client = raw(Listener.CLIENT).send(preamble(DataPreamble.Side.CLIENT, session.ticket()), CLIENT_HELLO);
        RawPeer stranger = raw(listenerOf(side));

        // when
        stranger.send(preamble(side, SessionTicket.random()), CLIENT_HELLO);

        // then
        assertThat(stranger.closedByRelay()).isTrue();
        assertThat(stranger.received()).isEmpty();
        assertThat(stats().dataConnectionsRefused()).isEqualTo(1);
        // and the session still pairs as if nothing happened
        assertThat(client.closedByRelay()).isFalse();
        RawPeer agent = raw(Listener.AGENT).send(preamble(DataPreamble.Side.AGENT, session.ticket()), SERVER_HELLO);
        assertThat(agent.received()).isEqualTo(CLIENT_HELLO);
        assertThat(client.received()).isEqualTo(SERVER_HELLO);
        assertThat(session.client().fresh()).isEmpty();
    }

    @Test
    @DisplayName("a ticket is good for one connection per side: a replay is refused, the first is unaffected; once"
            + " paired, the ticket is spent")
    void ticketIsGoodOncePerSide() {
        // given: the client's data connection has joined
        Granted session = granted();
        byte[] client = preamble(DataPreamble.Side.CLIENT, session.ticket());
        RawPeer first = raw(Listener.CLIENT).send(client, CLIENT_HELLO);

        // when: the same preamble again, as someone who saw it in the clear would send it
        RawPeer replay = raw(Listener.CLIENT).send(client, "replayed".getBytes(StandardCharsets.US_ASCII));

        // then
        assertThat(replay.closedByRelay()).isTrue();
        assertThat(replay.received()).isEmpty();
        assertThat(first.closedByRelay()).isFalse();
        assertThat(stats().dataConnectionsRefused()).isEqualTo(1);
        // and the first still pairs, carrying its own bytes only
        RawPeer agent = raw(Listener.AGENT).send(preamble(DataPreamble.Side.AGENT, session.ticket()));
        assertThat(agent.received()).isEqualTo(CLIENT_HELLO);
        // and once paired the ticket is gone: a third connection, of either side, is refused as unknown
        assertThat(relay.tickets).isEmpty();
        RawPeer lateClient = raw(Listener.CLIENT).send(client);
        RawPeer lateAgent = raw(Listener.AGENT).send(preamble(DataPreamble.Side.AGENT, session.ticket()));
        assertThat(lateClient.closedByRelay()).isTrue();
        assertThat(lateAgent.closedByRelay()).isTrue();
        assertThat(stats().dataConnectionsRefused()).isEqualTo(3);
        assertThat(first.closedByRelay()).isFalse();
        assertThat(agent.closedByRelay()).isFalse();
        assertThat(stats().sessionsActive()).isEqualTo(1);
    }

    // 3. where each side comes from

    @ParameterizedTest(name = "{0} side")
    @EnumSource(DataPreamble.Side.class)
    @DisplayName("a side presenting its ticket on the other side's listener is refused; the session is unaffected")
    void sideOnTheWrongListenerIsRefused(DataPreamble.Side side) {
        // given
        Granted session = granted();
        Listener wrong = listenerOf(side) == Listener.CLIENT ? Listener.AGENT : Listener.CLIENT;

        // when
        RawPeer data = raw(wrong).send(preamble(side, session.ticket()), CLIENT_HELLO);

        // then
        assertThat(data.closedByRelay()).isTrue();
        assertThat(data.received()).isEmpty();
        assertThat(stats().dataConnectionsRefused()).isEqualTo(1);
        // and the side may still come through its own listener
        assertThat(relay.tickets).containsOnlyKeys(session.ticket());
        RawPeer right = raw(listenerOf(side)).send(preamble(side, session.ticket()));
        assertThat(right.closedByRelay()).isFalse();
        assertThat(stats().dataConnectionsRefused()).isEqualTo(1);
    }

    @Test
    @DisplayName("a client data connection from another address than the session's control connection is refused"
            + " without a word")
    void clientFromAnotherAddressIsRefused() {
        // given: the session was granted to alice at PEER
        Granted session = granted();

        // when: its ticket arrives from elsewhere
        RawPeer data = raw(Listener.CLIENT, ELSEWHERE).send(preamble(DataPreamble.Side.CLIENT, session.ticket()),
                CLIENT_HELLO);

        // then
        assertThat(data.closedByRelay()).isTrue();
        assertThat(data.received()).isEmpty();
        assertThat(stats().dataConnectionsRefused()).isEqualTo(1);
        assertThat(session.client().fresh()).isEmpty();
        // and alice's own data connection is still welcome
        RawPeer own = raw(Listener.CLIENT).send(preamble(DataPreamble.Side.CLIENT, session.ticket()));
        assertThat(own.closedByRelay()).isFalse();
    }

    @Test
    @DisplayName("an agent's data connection is not held to its control connection's address (the end-to-end TLS"
            + " handshake proves the agent)")
    void agentFromAnyAddressJoins() {
        // given
        Granted session = granted();
        RawPeer client = raw(Listener.CLIENT).send(preamble(DataPreamble.Side.CLIENT, session.ticket()), CLIENT_HELLO);

        // when
        RawPeer agent = raw(Listener.AGENT, ELSEWHERE).send(preamble(DataPreamble.Side.AGENT, session.ticket()));

        // then
        assertThat(agent.closedByRelay()).isFalse();
        assertThat(agent.received()).isEqualTo(CLIENT_HELLO);
        assertThat(stats().dataConnectionsRefused()).isZero();
    }

    @Test
    @DisplayName("a client data connection through the external listener for a session granted on the in-cluster one is"
            + " refused")
    void clientThroughAnotherListenerKindIsRefused() {
        // given
        Granted session = granted();

        // when: same address, other listener kind
        RawPeer data = rawExternal(PEER).send(preamble(DataPreamble.Side.CLIENT, session.ticket()), CLIENT_HELLO);

        // then
        assertThat(data.closedByRelay()).isTrue();
        assertThat(data.received()).isEmpty();
        assertThat(stats().dataConnectionsRefused()).isEqualTo(1);
        assertThat(relay.tickets).containsOnlyKeys(session.ticket());
    }

    // 4. pairing

    @ParameterizedTest(name = "the {0} side first")
    @EnumSource(DataPreamble.Side.class)
    @DisplayName("both sides with the ticket are spliced: bytes pass unchanged both ways, early ones included")
    void pairedSidesPassBytesUnchanged(DataPreamble.Side firstSide) {
        // given: a granted session; one side arrives with its first bytes, then the other
        Granted session = granted();
        boolean clientFirst = firstSide == DataPreamble.Side.CLIENT;
        RawPeer client;
        RawPeer agent;
        if (clientFirst) {
            client = raw(Listener.CLIENT).send(preamble(DataPreamble.Side.CLIENT, session.ticket()), CLIENT_HELLO);
            agent = raw(Listener.AGENT).send(preamble(DataPreamble.Side.AGENT, session.ticket()));
        } else {
            agent = raw(Listener.AGENT).send(preamble(DataPreamble.Side.AGENT, session.ticket()));
            client = raw(Listener.CLIENT).send(preamble(DataPreamble.Side.CLIENT, session.ticket()), CLIENT_HELLO);
        }
        assertThat(agent.received()).as("what the client sent with its preamble").isEqualTo(CLIENT_HELLO);
        assertThat(client.relaySide.eventLoop()).as("the second side moved to the first's event loop")
                .isSameAs(agent.relaySide.eventLoop());

        // when
        agent.send(SERVER_HELLO);
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
        Granted session = granted();
        RawPeer client = raw(Listener.CLIENT).send(preamble(DataPreamble.Side.CLIENT, session.ticket()), CLIENT_HELLO);
        RawPeer agent = raw(Listener.AGENT).send(preamble(DataPreamble.Side.AGENT, session.ticket()), SERVER_HELLO);
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
        // counted, forgotten
        assertThat(closings).isEmpty();
        session.client().advance(Duration.ofMillis(ClientSession.REPORT_GRACE_MILLIS));
        assertThat(closings).singleElement().satisfies(closed -> {
            assertThat(closed.sessionId()).isEqualTo(session.grant().sessionId());
            assertThat(closed.identity().username()).isEqualTo("alice");
            assertThat(closed.forward()).isEqualTo(ref(DB));
            assertThat(closed.bytesFromClient()).isEqualTo(CLIENT_HELLO.length + FROM_CLIENT.length);
            assertThat(closed.bytesToClient()).isEqualTo(SERVER_HELLO.length + FROM_AGENT.length);
        });
        assertThat(relay.registry.allSessions()).isEmpty();
        assertThat(relay.tickets).isEmpty();
        assertThat(stats()).isEqualTo(new RelayStats(1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
        // and the client's control connection, which outlives its sessions, was not touched
        assertThat(session.client().closedByRelay()).isFalse();
        assertThat(session.client().fresh()).isEmpty();
    }

    @Test
    @DisplayName("a side that sends more than 64 KiB before the other side is here is cut off, and the session ends at"
            + " once: the other side, arriving later, is refused")
    void tooManyEarlyBytesCutTheSideOff() {
        // given
        Granted session = granted();

        // when: far more than a TLS ClientHello, before the agent's side is here to take it
        RawPeer client = raw(Listener.CLIENT).send(preamble(DataPreamble.Side.CLIENT, session.ticket()),
                randomBytes(5, RelaySplice.MAX_EARLY_BYTES + 1));

        // then
        assertThat(client.closedByRelay()).isTrue();
        assertThat(closings).singleElement().satisfies(closed -> {
            assertThat(closed.reason()).isEqualTo(EndReason.CLIENT_CLOSED);
            assertThat(closed.bytesToClient()).isZero();
        });
        RawPeer agent = raw(Listener.AGENT).send(preamble(DataPreamble.Side.AGENT, session.ticket()), SERVER_HELLO);
        assertThat(agent.closedByRelay()).isTrue();
        assertThat(agent.received()).isEmpty();
        assertThat(relay.registry.allSessions()).isEmpty();
        assertThat(relay.tickets).isEmpty();
    }

    @Test
    @DisplayName("a paired session outlives its control connection; one still being set up does not")
    void pairedSessionOutlivesItsControlConnection() {
        // given: session 1 paired, session 3 granted with only its client side here
        Granted session = granted();
        RawPeer client = raw(Listener.CLIENT).send(preamble(DataPreamble.Side.CLIENT, session.ticket()));
        RawPeer agent = raw(Listener.AGENT).send(preamble(DataPreamble.Side.AGENT, session.ticket()));
        session.client().send(new Frame.Session(3));
        Frame.Grant second = (Frame.Grant) session.client().fresh().get(0);
        RawPeer waiting = raw(Listener.CLIENT).send(preamble(DataPreamble.Side.CLIENT, second.ticket()));

        // when
        session.client().hangUp();

        // then
        assertThat(waiting.closedByRelay()).isTrue();
        assertThat(closings).singleElement().satisfies(closed -> {
            assertThat(closed.sessionId()).isEqualTo(second.sessionId());
            assertThat(closed.reason()).isEqualTo(EndReason.CLIENT_CLOSED);
        });
        client.send(FROM_CLIENT);
        assertThat(agent.received()).isEqualTo(FROM_CLIENT);
        assertThat(client.closedByRelay()).isFalse();
        assertThat(stats().sessionsActive()).isEqualTo(1);
    }

    // 5. sessions ended by the relay or the agent

    @Test
    @DisplayName("a session whose second side does not arrive within the handshake timeout is ended as unavailable:"
            + " the client hears why, its data connection is closed")
    void pairingTimeoutEndsTheSession() {
        // given: only the client's side arrives
        Granted session = granted();
        RawPeer client = raw(Listener.CLIENT).send(preamble(DataPreamble.Side.CLIENT, session.ticket()), CLIENT_HELLO);

        // when / then: the clock that counts is the control connection's, where the session was granted
        session.client().advance(HANDSHAKE_TIMEOUT.minusMillis(1));
        assertThat(client.closedByRelay()).isFalse();
        assertThat(session.client().fresh()).isEmpty();
        session.client().advance(Duration.ofMillis(1));
        String message = "the session's data connections did not both reach the relay within 10 s";
        assertThat(session.client().fresh()).containsExactly(new Frame.Reset(1, EndReason.AGENT_UNAVAILABLE, message));
        assertThat(client.closedByRelay()).isTrue();
        assertThat(client.received()).isEmpty();
        assertThat(closings).singleElement().satisfies(closed -> {
            assertThat(closed.reason()).isEqualTo(EndReason.AGENT_UNAVAILABLE);
            assertThat(closed.message()).isEqualTo(message);
            assertThat(closed.bytesFromClient()).isEqualTo(CLIENT_HELLO.length);
        });
        assertThat(relay.tickets).isEmpty();
        assertThat(relay.registry.allSessions()).isEmpty();
        // and the agent, late, finds the ticket gone
        RawPeer late = raw(Listener.AGENT).send(preamble(DataPreamble.Side.AGENT, session.ticket()));
        assertThat(late.closedByRelay()).isTrue();
        assertThat(stats().dataConnectionsRefused()).isEqualTo(1);
        assertThat(session.client().closedByRelay()).isFalse();
    }

    @Test
    @DisplayName("a paired session ends when the client certificate expires: the client hears why, both data"
            + " connections close")
    void expiryEndsTheSession() {
        // given: a paired session; alice's certificate ends in an hour, before the forward does
        Granted session = granted();
        RawPeer client = raw(Listener.CLIENT).send(preamble(DataPreamble.Side.CLIENT, session.ticket()), CLIENT_HELLO);
        RawPeer agent = raw(Listener.AGENT).send(preamble(DataPreamble.Side.AGENT, session.ticket()));

        // when
        session.client().advance(Duration.ofHours(1).plusSeconds(1));

        // then: the session's expiry and its control connection's fall together; the client hears of it either way
        String message = "client certificate for shop/db expired at " + ALICE_DB.certificate().getNotAfter().toInstant();
        List<Frame> frames = session.client().fresh().stream().filter(f -> !(f instanceof Frame.Ping)).toList();
        assertThat(frames).as("(besides the keepalive ping an hour of silence brings)")
                .contains(new Frame.GoAway(EndReason.EXPIRED, message))
                .allSatisfy(frame -> assertThat(frame).isIn(new Frame.GoAway(EndReason.EXPIRED, message),
                        new Frame.Reset(1, EndReason.EXPIRED, message)));
        assertThat(client.closedByRelay()).isTrue();
        assertThat(agent.closedByRelay()).isTrue();
        assertThat(closings).singleElement().satisfies(closed -> {
            assertThat(closed.reason()).isEqualTo(EndReason.EXPIRED);
            assertThat(closed.message()).isEqualTo(message);
        });
        assertThat(relay.registry.allSessions()).isEmpty();
    }

    @Test
    @DisplayName("a revoked forward's session is ended by the relay: the client hears why, both data connections close")
    void revocationEndsTheSession() {
        // given: a paired session
        Granted session = granted();
        RawPeer client = raw(Listener.CLIENT).send(preamble(DataPreamble.Side.CLIENT, session.ticket()), CLIENT_HELLO);
        RawPeer agent = raw(Listener.AGENT).send(preamble(DataPreamble.Side.AGENT, session.ticket()), SERVER_HELLO);

        // when: what RelayServer.closeForward does to the forward's sessions
        String message = "forward shop/db was revoked";
        relay.registry.sessions(ref(DB)).forEach(s -> s.terminate(EndReason.REVOKED, message));

        // then
        assertThat(session.client().fresh()).containsExactly(new Frame.Reset(1, EndReason.REVOKED, message));
        assertThat(client.closedByRelay()).isTrue();
        assertThat(agent.closedByRelay()).isTrue();
        assertThat(closings).singleElement().satisfies(closed -> {
            assertThat(closed.reason()).isEqualTo(EndReason.REVOKED);
            assertThat(closed.message()).isEqualTo(message);
            assertThat(closed.bytesFromClient()).isEqualTo(CLIENT_HELLO.length);
            assertThat(closed.bytesToClient()).isEqualTo(SERVER_HELLO.length);
        });
        assertThat(relay.registry.allSessions()).isEmpty();
    }

    @Test
    @DisplayName("the agent's report that it could not reach the target names the paired session's end: TARGET_REFUSED")
    void agentReportEndsTheSession() {
        // given: a paired session
        Granted session = granted();
        RawPeer client = raw(Listener.CLIENT).send(preamble(DataPreamble.Side.CLIENT, session.ticket()), CLIENT_HELLO);
        RawPeer agent = raw(Listener.AGENT).send(preamble(DataPreamble.Side.AGENT, session.ticket()), SERVER_HELLO);

        // when: the agent reports the session's end on its control connection
        String message = "cannot connect to target db.shop.svc:5432: Connection refused";
        session.agent().send(new Frame.Ended(session.dial().streamId(), EndReason.TARGET_REFUSED, message, 0, 0));

        // then: the ends close their own connection, having told each other why (the relay does not cut it short)
        assertThat(client.closedByRelay()).isFalse();
        assertThat(closings).isEmpty();
        // when the client's side closes, the relay closes the agent's and the session ends as the agent reported
        client.relaySide.close();
        client.relaySide.runPendingTasks();
        agent.relaySide.runPendingTasks();
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
    @DisplayName("an agent that refuses to dial ends the session at once: the client hears the agent's reason on its"
            + " control connection, its waiting data connection is closed")
    void agentRefusingToDialEndsTheSession(EndReason reason, String message) {
        // given: the client's side is here, waiting
        Granted session = granted();
        RawPeer client = raw(Listener.CLIENT).send(preamble(DataPreamble.Side.CLIENT, session.ticket()), CLIENT_HELLO);

        // when: the agent answers the DIAL with ENDED instead of a data connection, as Agent.onControl does
        session.agent().send(new Frame.Ended(session.dial().streamId(), reason, message, 0, 0));

        // then: no waiting for the pairing timeout
        assertThat(session.client().fresh()).containsExactly(new Frame.Reset(1, reason, message));
        assertThat(client.closedByRelay()).isTrue();
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
        Granted session = granted();
        RawPeer client = raw(Listener.CLIENT).send(preamble(DataPreamble.Side.CLIENT, session.ticket()));

        // when
        session.agent().hangUp();

        // then
        String message = "agent connection lost before the session was set up";
        assertThat(session.client().fresh()).containsExactly(new Frame.Reset(1, EndReason.AGENT_LOST, message));
        assertThat(client.closedByRelay()).isTrue();
        assertThat(closings).singleElement().satisfies(closed -> assertThat(closed.reason()).isEqualTo(EndReason.AGENT_LOST));
        assertThat(relay.tickets).isEmpty();
        assertThat(stats()).isEqualTo(new RelayStats(0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
    }

    // fixtures

    private static Listener listenerOf(DataPreamble.Side side) {
        return side == DataPreamble.Side.CLIENT ? Listener.CLIENT : Listener.AGENT;
    }

    private static byte[] randomBytes(long seed, int length) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }
}
