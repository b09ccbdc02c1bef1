package dev.porthole.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import dev.porthole.protocol.DataRefusal;
import dev.porthole.protocol.EndReason;
import dev.porthole.protocol.Frame;
import dev.porthole.protocol.Role;
import dev.porthole.protocol.pki.KeyMaterial;
import dev.porthole.protocol.tls.TlsContexts;
import io.netty.channel.embedded.EmbeddedChannel;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What a client's data connection presenting a session pass meets at the replica it reached, on Netty's
 * {@link EmbeddedChannel} (see {@link AdmissionTestSupport}): a pass the relay did not seal is closed without a word,
 * as a malformed preamble is; a pass the relay sealed but that cannot open a session (expired, spent, revoked
 * meanwhile, no agent here, the audit down ...) is told why in a {@link DataRefusal}, and nothing of the session is
 * left behind. Where the client comes from (address, listener kind) is {@link DataAdmissionChannelTest}'s; a pass
 * opened by another replica is {@link ReplicaChannelTest}'s.
 */
class SessionOpeningChannelTest extends AdmissionTestSupport {

    private static final InetSocketAddress ELSEWHERE = new InetSocketAddress("198.51.100.7", 40001);
    private static final byte[] CLIENT_HELLO = DataAdmissionChannelTest.randomBytes(11, 517);
    /** Another relay's serving key (signed by the same CA): the seal it derives is not this relay's. */
    private static final KeyMaterial OTHER_RELAY_KEY = CA.issueServerCertificate("another-relay",
            List.of("localhost"), Duration.ofDays(1));

    // 1. passes the relay did not seal

    /** Makes a forged pass out of a genuine one (its sealed bytes, and what it says). */
    @FunctionalInterface
    interface Forgery {
        byte[] forge(byte[] sealed, SessionPass pass) throws Exception;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("forgeries")
    @DisplayName("a pass the relay did not seal as it is (forged, altered, sealed with another key, cut) is closed"
            + " without a word, counted as refused; the genuine pass still opens the session")
    void forgedPassIsClosedWithoutAWord(String what, InetSocketAddress from, Forgery forgery) throws Exception {
        // given: a granted session, whose pass someone saw in the clear
        Granted granted = granted();
        byte[] forged = forgery.forge(granted.pass(), relay.passes.open(granted.pass()));

        // when
        RawPeer data = raw(Listener.CLIENT, from).send(clientPreamble(forged), CLIENT_HELLO);

        // then: nothing said, since whoever sent it proved nothing; nothing decided, recorded or dialled
        assertThat(data.closedByRelay()).isTrue();
        assertThat(data.received()).isEmpty();
        assertThat(data.timersLeft()).isFalse();
        assertThat(stats()).isEqualTo(new RelayStats(1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1));
        assertThat(authorizerCalls.get()).as("the connection and the grant only").isEqualTo(2);
        assertThat(denials).isEmpty();
        assertThat(openings).isEmpty();
        assertThat(granted.agent().fresh()).as("no DIAL").isEmpty();
        assertThat(granted.client().fresh()).isEmpty();
        assertThat(relay.tickets).isEmpty();
        assertThat(relay.registry.allSessions()).isEmpty();
        // and the forgery did not spend the genuine pass
        Opened session = open(granted);
        assertThat(session.data().closedByRelay()).isFalse();
        assertThat(stats().dataConnectionsRefused()).isEqualTo(1);
    }

    static Stream<Arguments> forgeries() {
        PassSeal otherSeal = PassSeal.derivedFrom(OTHER_RELAY_KEY);
        return Stream.of(
                arguments("random bytes of a pass's length", PEER, (Forgery) (sealed, pass) ->
                        DataAdmissionChannelTest.randomBytes(12, sealed.length)),
                arguments("one bit of the body flipped", PEER, (Forgery) (sealed, pass) -> flip(sealed, 20)),
                arguments("one bit of the seal flipped", PEER, (Forgery) (sealed, pass) ->
                        flip(sealed, sealed.length - 1)),
                arguments("the address rewritten to the sender's, the seal kept", ELSEWHERE, (Forgery) (sealed, pass) ->
                        reseal(new SessionPass(pass.sessionId(), pass.identity(), pass.certificateSha256(),
                                ELSEWHERE.getAddress(), pass.external(), pass.issuer(), pass.controlId(),
                                pass.requestId(), pass.validUntil()), sealed)),
                arguments("the validity extended by a day, the seal kept", PEER, (Forgery) (sealed, pass) ->
                        reseal(new SessionPass(pass.sessionId(), pass.identity(), pass.certificateSha256(),
                                pass.clientAddress(), pass.external(), pass.issuer(), pass.controlId(),
                                pass.requestId(), pass.validUntil().plus(Duration.ofDays(1))), sealed)),
                arguments("sealed with another relay's key", PEER, (Forgery) (sealed, pass) -> otherSeal.seal(pass)),
                arguments("the last byte cut", PEER, (Forgery) (sealed, pass) ->
                        Arrays.copyOf(sealed, sealed.length - 1)),
                arguments("a byte appended", PEER, (Forgery) (sealed, pass) -> Arrays.copyOf(sealed, sealed.length + 1)),
                arguments("the seal alone", PEER, (Forgery) (sealed, pass) ->
                        Arrays.copyOfRange(sealed, sealed.length - PassSeal.MAC_LENGTH, sealed.length)),
                arguments("a single byte", PEER, (Forgery) (sealed, pass) -> new byte[] {1}));
    }

    // 2. passes the relay sealed, that open no session

    @Test
    @DisplayName("a pass presented at its expiry is refused, told why; a millisecond before, it opens the session")
    void expiredPassIsRefused() {
        // given: two sessions granted at the same moment
        Granted early = granted();
        Granted late = grant(early.client(), early.agent(), 3);

        // when / then: just in time
        clock.advance(HANDSHAKE_TIMEOUT.minusMillis(1));
        open(early);
        // when / then: too late
        clock.advance(Duration.ofMillis(1));
        RawPeer data = raw(Listener.CLIENT).send(clientPreamble(late.pass()), CLIENT_HELLO);
        String reason = "session pass expired at " + NOW.plus(HANDSHAKE_TIMEOUT)
                + " (a data connection follows its grant within 10 s)";
        assertThat(refusal(data)).isEqualTo(new DataRefusal(EndReason.DENIED, reason));
        assertThat(data.closedByRelay()).isTrue();
        assertThat(data.timersLeft()).isFalse();
        assertThat(early.agent().fresh()).as("no DIAL for the late one").isEmpty();
        assertThat(openings).hasSize(1);
        assertThat(denials).singleElement().satisfies(d -> {
            assertThat(d.identity().username()).isEqualTo("alice");
            assertThat(d.reason()).isEqualTo(EndReason.DENIED);
            assertThat(d.message()).isEqualTo(reason);
        });
        assertThat(relay.registry.allSessions()).hasSize(1);
        assertThat(stats()).isEqualTo(new RelayStats(1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1));
    }

    @Test
    @DisplayName("a pass whose client certificate expired since the grant is refused, told why")
    void certificateExpiredSinceTheGrantIsRefused() {
        // given: alice's certificate ends five seconds after her session is granted, within the pass's validity
        Instant notAfter = NOW.plusSeconds(5);
        KeyMaterial key = clientKey("alice", DB, DB_UID, notAfter);
        Peer agent = dbAgent();
        Peer client = tls(CLIENT_LISTENER_TLS, Listener.CLIENT, TlsContexts.client(CA.certificate(), key))
                .send(clientHello(Role.CLIENT, DB));
        assertThat(client.welcome().accepted()).isTrue();
        Granted granted = grant(client, agent, 1);

        // when
        clock.advance(Duration.ofSeconds(5));
        RawPeer data = raw(Listener.CLIENT).send(clientPreamble(granted.pass()));

        // then
        assertThat(refusal(data)).isEqualTo(new DataRefusal(EndReason.DENIED, "certificate expired at " + notAfter));
        assertThat(agent.fresh()).isEmpty();
        assertThat(relay.registry.allSessions()).isEmpty();
        assertThat(stats().sessionsDenied()).isEqualTo(1);
    }

    @Test
    @DisplayName("a pass stays spent after its session ended: presented again, it is told it was used")
    void passStaysSpentAfterItsSessionEnded() {
        // given: a session opened from the pass, then cancelled
        Opened session = opened();
        session.data().hangUp();
        assertThat(relay.registry.allSessions()).isEmpty();

        // when
        RawPeer again = raw(Listener.CLIENT).send(clientPreamble(session.grant().pass()));

        // then
        assertThat(refusal(again)).isEqualTo(new DataRefusal(EndReason.DENIED,
                "session pass for " + session.sessionId() + " was used already"));
        assertThat(session.agent().fresh()).isEmpty();
        assertThat(openings).hasSize(1);
        assertThat(relay.spentPasses.size()).isEqualTo(1);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("decisionsSinceTheGrant")
    @DisplayName("a session is decided afresh where it opens: one the authorizer no longer allows is refused, told why,"
            + " and recorded as a denial")
    void sessionNoLongerAllowedIsRefused(String what, Decision decision, RuntimeException failure, String reason) {
        // given: granted, then the forward is revoked (or the policy store fails)
        Granted granted = granted();
        policy = decision;
        policyFailure = failure;

        // when
        RawPeer data = raw(Listener.CLIENT).send(clientPreamble(granted.pass()), CLIENT_HELLO);

        // then
        assertThat(refusal(data)).isEqualTo(new DataRefusal(EndReason.DENIED, reason));
        assertThat(data.closedByRelay()).isTrue();
        assertThat(data.timersLeft()).isFalse();
        assertThat(authorizerCalls.get()).as("the connection, the grant, and the opening").isEqualTo(3);
        assertThat(granted.agent().fresh()).as("no DIAL").isEmpty();
        assertThat(openings).isEmpty();
        assertThat(relay.tickets).isEmpty();
        assertThat(relay.registry.allSessions()).isEmpty();
        assertThat(denials).singleElement().satisfies(d -> {
            assertThat(d.identity().username()).isEqualTo("alice");
            assertThat(d.clientAddress()).isEqualTo(PEER);
            assertThat(d.forward()).isEqualTo(ref(DB));
            assertThat(d.reason()).isEqualTo(EndReason.DENIED);
            assertThat(d.message()).isEqualTo(reason);
        });
        assertThat(stats()).isEqualTo(new RelayStats(1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1));
        assertThat(granted.client().fresh()).as("the control connection goes on, unaware").isEmpty();
        assertThat(granted.client().closedByRelay()).isFalse();
    }

    static Stream<Arguments> decisionsSinceTheGrant() {
        return Stream.of(
                arguments("the forward was revoked", Decision.deny("forward shop/db was revoked"), null,
                        "forward shop/db was revoked"),
                arguments("alice left the audience", Decision.deny("alice is not in the audience of forward shop/db"),
                        null, "alice is not in the audience of forward shop/db"),
                arguments("the authorizer fails", null, new IllegalStateException("policy store unavailable"),
                        "authorisation failed on the relay"));
    }

    @Test
    @DisplayName("a pass presented where the forward's agent is no longer connected is refused as unavailable, and not spent")
    void noAgentOnThisReplicaIsRefused() {
        // given: granted, then the agent's control connection goes
        Granted granted = granted();
        granted.agent().hangUp();

        // when
        RawPeer data = raw(Listener.CLIENT).send(clientPreamble(granted.pass()), CLIENT_HELLO);

        // then
        String reason = "no agent of forward shop/db is connected to this relay replica";
        assertThat(refusal(data)).isEqualTo(new DataRefusal(EndReason.AGENT_UNAVAILABLE, reason));
        assertThat(data.closedByRelay()).isTrue();
        assertThat(openings).isEmpty();
        assertThat(relay.tickets).isEmpty();
        assertThat(relay.registry.allSessions()).isEmpty();
        assertThat(denials).singleElement().satisfies(d -> {
            assertThat(d.reason()).isEqualTo(EndReason.AGENT_UNAVAILABLE);
            assertThat(d.message()).isEqualTo(reason);
        });
        assertThat(stats()).isEqualTo(new RelayStats(0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1));
        // a pass refused before it was decided is not spent: once an agent is back it opens
        Peer agent = dbAgent();
        RawPeer again = raw(Listener.CLIENT).send(clientPreamble(granted.pass()), CLIENT_HELLO);
        assertThat(agent.fresh()).singleElement().isInstanceOf(Frame.Dial.class);
        assertThat(again.closedByRelay()).isFalse();
        assertThat(openings).hasSize(1);
    }

    @Test
    @DisplayName("an opening the audit trail cannot record is refused and undone: nothing is left in the registry, the"
            + " tickets or the control connection's sessions, and a later pass opens as usual")
    void unrecordableOpeningLeavesNothing() {
        // given
        Granted first = granted();
        Granted second = grant(first.client(), first.agent(), 3);
        auditFailure = new IllegalStateException("audit log unavailable");

        // when
        RawPeer refused = raw(Listener.CLIENT).send(clientPreamble(first.pass()), CLIENT_HELLO);

        // then
        assertThat(refusal(refused)).isEqualTo(new DataRefusal(EndReason.DENIED,
                "the relay could not record this session in the audit trail, so it is refused; try again"));
        assertThat(relay.registry.allSessions()).isEmpty();
        assertThat(relay.tickets).isEmpty();
        assertThat(first.agent().fresh()).isEmpty();
        assertThat(stats()).isEqualTo(new RelayStats(1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1));
        // and a RESET of the refused request on the control connection finds nothing to cancel
        first.client().send(new Frame.Reset(1, EndReason.CANCELLED, "client gave up"));
        assertThat(closings).isEmpty();
        // and once the audit trail is back, the other pass opens
        auditFailure = null;
        Opened session = open(second);
        assertThat(relay.registry.allSessions()).singleElement()
                .satisfies(s -> assertThat(s.id()).isEqualTo(session.sessionId()));
        assertThat(stats()).isEqualTo(new RelayStats(1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1));
    }

    @Test
    @DisplayName("a client that leaves while its opening is being decided leaves nothing behind")
    void clientLeavingWhileDecidedLeavesNothing() {
        // given: alice's data connection goes while the authorizer decides its session afresh
        Granted granted = granted();
        RawPeer data = raw(Listener.CLIENT);
        whileAuthorizing = () -> data.relaySide.close();

        // when
        data.send(clientPreamble(granted.pass()), CLIENT_HELLO);

        // then
        assertThat(data.closedByRelay()).isTrue();
        assertThat(granted.agent().fresh()).isEmpty();
        assertThat(openings).isEmpty();
        assertThat(closings).isEmpty();
        assertThat(relay.registry.allSessions()).isEmpty();
        assertThat(relay.tickets).isEmpty();
        assertThat(data.timersLeft()).isFalse();
    }

    // 3. what each side is owed

    @Test
    @DisplayName("an opening that was recorded always gets its close record, even when the client left while it was"
            + " recorded")
    void recordedOpeningIsAlwaysClosed() {
        // given: alice's data connection goes while the audit trail records her session's opening
        Granted granted = granted();
        RawPeer[] data = new RawPeer[1];
        whileRecording = () -> data[0].relaySide.close();
        data[0] = raw(Listener.CLIENT);

        // when
        data[0].send(clientPreamble(granted.pass()), CLIENT_HELLO);

        // then: nothing of the session is left, and the audit trail says it ended
        assertThat(openings).hasSize(1);
        assertThat(granted.agent().fresh()).as("no DIAL").isEmpty();
        assertThat(relay.registry.allSessions()).isEmpty();
        assertThat(relay.tickets).isEmpty();
        assertThat(closings).as("the opening on record is closed on record").singleElement().satisfies(closed -> {
            assertThat(closed.sessionId()).isEqualTo(granted.sessionId());
            assertThat(closed.reason()).isEqualTo(EndReason.CLIENT_CLOSED);
        });
    }

    @Test
    @DisplayName("the agent is not told to dial a session that ended while it opened (its client sent more than 64 KiB"
            + " with its preamble)")
    void sessionEndedWhileOpeningIsNotDialled() {
        // given
        Granted granted = granted();

        // when: the early bytes reach the splice as the session opens, and cut the client off at once
        RawPeer data = raw(Listener.CLIENT).send(clientPreamble(granted.pass()),
                DataAdmissionChannelTest.randomBytes(13, RelaySplice.MAX_EARLY_BYTES + 1));

        // then
        assertThat(data.closedByRelay()).isTrue();
        assertThat(closings).singleElement().satisfies(closed -> assertThat(closed.reason())
                .isEqualTo(EndReason.CLIENT_CLOSED));
        assertThat(granted.agent().fresh()).as("no DIAL for a session already over").isEmpty();
        assertThat(relay.registry.agent(ref(DB)).dialledSessions()).isEmpty();
    }

    // fixtures

    private static byte[] flip(byte[] bytes, int index) {
        byte[] flipped = bytes.clone();
        flipped[index] ^= 0x01;
        return flipped;
    }

    /** {@code pass}'s body with the seal of {@code sealed}, another pass's: what an attacker without the key can do. */
    private static byte[] reseal(SessionPass pass, byte[] sealed) {
        byte[] body = pass.encode();
        byte[] forged = Arrays.copyOf(body, body.length + PassSeal.MAC_LENGTH);
        System.arraycopy(sealed, sealed.length - PassSeal.MAC_LENGTH, forged, body.length, PassSeal.MAC_LENGTH);
        return forged;
    }
}
