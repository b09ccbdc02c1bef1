package dev.porthole.relay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.protocol.DataRefusal;
import dev.porthole.protocol.EndReason;
import dev.porthole.protocol.Frame;
import dev.porthole.protocol.pki.CertificateDigest;
import dev.porthole.protocol.pki.KeyMaterial;
import io.netty.channel.embedded.EmbeddedChannel;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Two replicas of one relay, on Netty's {@link EmbeddedChannel} (see {@link AdmissionTestSupport}): both serve with
 * the same key, so both derive the same pass seal, and share nothing else. The forward's agent links each of them with
 * a control connection of its own. Alice's control connection reaches replica A, which grants her session; her data
 * connection may reach either, and the one it reaches opens the session and dials its own agent connection. Only A
 * holds her control connection, so only a session opened on A is reported there.
 */
class ReplicaChannelTest extends AdmissionTestSupport {

    private static final byte[] CLIENT_HELLO = DataAdmissionChannelTest.randomBytes(21, 517);
    private static final byte[] SERVER_HELLO = DataAdmissionChannelTest.randomBytes(22, 2048);

    private RelayContext a;
    private RelayContext b;
    private Peer agentOfA;
    private Peer agentOfB;
    /** Alice's control connection, on A. */
    private Peer aliceOnA;
    /** Alice's control connection to B, admitted as A's was: the same connection id on B as hers on A. */
    private Peer aliceOnB;

    @BeforeEach
    void twoReplicas() {
        a = relay;
        b = replica();
        agentOfA = dbAgent(a);
        agentOfB = dbAgent(b);
        aliceOnA = aliceClient(a);
        aliceOnB = aliceClient(b);
    }

    @Test
    @DisplayName("a pass granted on replica A opens the session on replica B, the one the data connection reached: B"
            + " records it and dials its own agent connection; A's agent connection hears nothing")
    void passGrantedOnOneReplicaOpensOnAnother() {
        // given
        Granted granted = grant(aliceOnA, agentOfA, 1);

        // when
        Opened session = open(granted, raw(b, Listener.CLIENT, PEER), agentOfB, CLIENT_HELLO);

        // then: B dialled its agent connection, with a ticket of its own and the certificate the pass names
        assertThat(session.dial()).isEqualTo(new Frame.Dial(1, granted.sessionId(), session.ticket(),
                CertificateDigest.sha256(ALICE_DB.certificate())));
        assertThat(agentOfA.fresh()).isEmpty();
        assertThat(openings).singleElement().satisfies(opened -> {
            assertThat(opened.sessionId()).isEqualTo(granted.sessionId());
            assertThat(opened.identity().username()).isEqualTo("alice");
            assertThat(opened.clientAddress()).isEqualTo(PEER);
        });
        // and the session is B's alone
        assertThat(b.tickets).containsOnlyKeys(session.ticket());
        assertThat(b.registry.allSessions()).hasSize(1);
        assertThat(a.tickets).isEmpty();
        assertThat(a.registry.allSessions()).isEmpty();
        assertThat(b.stats()).isEqualTo(new RelayStats(1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
        assertThat(a.stats()).isEqualTo(new RelayStats(1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
        // and the ticket opens nothing on A
        RawPeer wrongReplica = raw(a, Listener.AGENT, PEER).send(agentPreamble(session.ticket()));
        assertThat(wrongReplica.closedByRelay()).isTrue();
        assertThat(a.stats().dataConnectionsRefused()).isEqualTo(1);
        // and B's agent's data connection is spliced to alice's there
        RawPeer agentData = raw(b, Listener.AGENT, PEER).send(agentPreamble(session.ticket()), SERVER_HELLO);
        assertThat(agentData.received()).isEqualTo(CLIENT_HELLO);
        assertThat(session.data().received()).isEqualTo(SERVER_HELLO);
        assertThat(b.tickets).isEmpty();
        assertThat(aliceOnA.fresh()).isEmpty();
    }

    @Test
    @DisplayName("a session B ends after it was paired is not reported on alice's control connection, which A holds; nor"
            + " on B's control connection that happens to have the same id")
    void sessionEndedOnAnotherReplicaIsNotReportedOnTheControlConnection() throws Exception {
        // given: granted on A, opened and paired on B
        Granted granted = grant(aliceOnA, agentOfA, 1);
        assertThat(b.controls).as("B has a control connection with the id the pass names, but not A's")
                .containsKey(a.passes.open(granted.pass()).controlId());
        Opened session = open(granted, raw(b, Listener.CLIENT, PEER), agentOfB, CLIENT_HELLO);
        RawPeer agentData = raw(b, Listener.AGENT, PEER).send(agentPreamble(session.ticket()), SERVER_HELLO);

        // when: B cuts it, as its closeForward does on revocation
        String message = "forward shop/db was revoked";
        b.registry.sessions(ref(DB)).forEach(s -> s.terminate(EndReason.REVOKED, message));

        // then: the data connections close; the control connections hear nothing
        assertThat(session.data().closedByRelay()).isTrue();
        assertThat(agentData.closedByRelay()).isTrue();
        assertThat(session.data().received()).as("paired: the ends tell each other").isEqualTo(SERVER_HELLO);
        assertThat(aliceOnA.fresh()).isEmpty();
        assertThat(aliceOnB.fresh()).isEmpty();
        assertThat(closings).singleElement().satisfies(closed -> {
            assertThat(closed.sessionId()).isEqualTo(granted.sessionId());
            assertThat(closed.reason()).isEqualTo(EndReason.REVOKED);
            assertThat(closed.message()).isEqualTo(message);
        });
        assertThat(b.registry.allSessions()).isEmpty();
    }

    @Test
    @DisplayName("a session B ends before its agent's data connection came is told on the waiting data connection, the"
            + " only one B has of alice's")
    void sessionEndedOnAnotherReplicaBeforePairingIsToldOnTheDataConnection() {
        // given: granted on A, opened on B, B's agent never dials
        Opened session = open(grant(aliceOnA, agentOfA, 1), raw(b, Listener.CLIENT, PEER), agentOfB, CLIENT_HELLO);

        // when: B's pairing timeout passes, on the event loop the session opened on
        session.data().advance(HANDSHAKE_TIMEOUT);

        // then
        String message = "the agent's data connection did not reach the relay within 10 s";
        assertThat(refusal(session.data())).isEqualTo(new DataRefusal(EndReason.AGENT_UNAVAILABLE, message));
        assertThat(session.data().closedByRelay()).isTrue();
        assertThat(aliceOnA.fresh()).as("A never heard of the session").isEmpty();
        assertThat(aliceOnB.fresh()).isEmpty();
        assertThat(closings).singleElement().satisfies(closed -> {
            assertThat(closed.reason()).isEqualTo(EndReason.AGENT_UNAVAILABLE);
            assertThat(closed.message()).isEqualTo(message);
        });
        assertThat(b.tickets).isEmpty();
        assertThat(b.registry.allSessions()).isEmpty();
    }

    @Test
    @DisplayName("closing or resetting on A does not reach a session set up on B: it waits for its agent there, and"
            + " pairs")
    void controlConnectionOnAnotherReplicaDoesNotCancel() {
        // given: granted on A, opened on B
        Opened session = open(grant(aliceOnA, agentOfA, 1), raw(b, Listener.CLIENT, PEER), agentOfB, CLIENT_HELLO);

        // when
        aliceOnA.send(new Frame.Reset(1, EndReason.CANCELLED, "client gave up"));
        aliceOnA.hangUp();

        // then
        assertThat(session.data().closedByRelay()).isFalse();
        assertThat(closings).isEmpty();
        RawPeer agentData = raw(b, Listener.AGENT, PEER).send(agentPreamble(session.ticket()));
        assertThat(agentData.received()).isEqualTo(CLIENT_HELLO);
        assertThat(b.stats().sessionsActive()).isEqualTo(1);
        assertThat(a.controls).isEmpty();
    }

    @Test
    @DisplayName("a replica without a connection to the forward's agent refuses the pass as unavailable; the replica"
            + " that granted it is not asked to dial")
    void replicaWithoutTheAgentRefuses() {
        // given: granted on A, whose agent connection is up; B's goes
        Granted granted = grant(aliceOnA, agentOfA, 1);
        agentOfB.hangUp();

        // when
        RawPeer data = raw(b, Listener.CLIENT, PEER).send(clientPreamble(granted.pass()), CLIENT_HELLO);

        // then
        String reason = "no agent of forward shop/db is connected to this relay replica";
        assertThat(refusal(data)).isEqualTo(new DataRefusal(EndReason.AGENT_UNAVAILABLE, reason));
        assertThat(data.closedByRelay()).isTrue();
        assertThat(agentOfA.fresh()).isEmpty();
        assertThat(openings).isEmpty();
        assertThat(denials).singleElement().satisfies(d -> {
            assertThat(d.reason()).isEqualTo(EndReason.AGENT_UNAVAILABLE);
            assertThat(d.message()).isEqualTo(reason);
        });
        assertThat(b.stats()).isEqualTo(new RelayStats(0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1));
        assertThat(a.stats()).isEqualTo(new RelayStats(1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
    }

    @Test
    @DisplayName("a replica of another relay (another serving key) closes the pass without a word")
    void anotherRelaysReplicaRefusesThePass() {
        // given
        KeyMaterial otherKey = CA.issueServerCertificate("another-relay", List.of("localhost"), Duration.ofDays(1));
        RelayContext other = replica(otherKey);
        Peer agentOfOther = dbAgent(other);
        Granted granted = grant(aliceOnA, agentOfA, 1);

        // when
        RawPeer data = raw(other, Listener.CLIENT, PEER).send(clientPreamble(granted.pass()), CLIENT_HELLO);

        // then
        assertThat(data.closedByRelay()).isTrue();
        assertThat(data.received()).isEmpty();
        assertThat(agentOfOther.fresh()).isEmpty();
        assertThat(other.stats()).isEqualTo(new RelayStats(1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1));
        assertThat(denials).isEmpty();
        // and the pass still opens on the relay that sealed it
        assertThat(open(granted, raw(b, Listener.CLIENT, PEER), agentOfB).data().closedByRelay()).isFalse();
    }

    @Test
    @DisplayName("replicas share no record of spent passes: a pass spent on A opens once more on B (there the agent's"
            + " end-to-end TLS handshake is what stops a replay), and once only")
    void passIsSpentPerReplica() {
        // given: opened on A
        Granted granted = grant(aliceOnA, agentOfA, 1);
        open(granted, raw(a, Listener.CLIENT, PEER), agentOfA);

        // when
        Opened onB = open(granted, raw(b, Listener.CLIENT, PEER), agentOfB);

        // then: B dialled its agent, which accepts only the certificate the pass names
        assertThat(onB.dial().clientCertificateSha256()).isEqualTo(CertificateDigest.sha256(ALICE_DB.certificate()));
        assertThat(openings).hasSize(2);
        // and a third time, on B again, it is told it was used
        RawPeer again = raw(b, Listener.CLIENT, PEER).send(clientPreamble(granted.pass()));
        assertThat(refusal(again)).isEqualTo(new DataRefusal(EndReason.DENIED,
                "session pass for " + granted.sessionId() + " was used already"));
        assertThat(agentOfB.fresh()).isEmpty();
    }
}
