package dev.porthole.relay;

import dev.porthole.protocol.DataPreamble;
import dev.porthole.protocol.EndReason;
import dev.porthole.protocol.ForwardRef;
import dev.porthole.protocol.pki.ClientIdentity;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens a session on the replica a client's data connection reached, from the {@link SessionPass} it presents (granted
 * by this or any other replica): the pass must be unexpired, unspent here, and presented from the address and through
 * the listener kind it was granted to; then the session is decided afresh (the {@link SessionAuthorizer}: the forward
 * may have been revoked since), needs this replica's connection to the forward's agent and room under the forward's
 * session limit, and is recorded (fail closed: a session whose opening cannot be recorded is refused). Only then is the
 * agent told to dial this replica. Runs on the data connection's event loop.
 */
final class SessionOpening {

    private static final Logger LOG = LoggerFactory.getLogger(SessionOpening.class);

    /** How the opening ended: a refusal to tell the client, or the session (the client side joined it). */
    interface Outcome {
        /** Runs before the agent is told to dial, so the client side is spliced before the agent can arrive. */
        void opened(ClientSession session);

        void refused(EndReason reason, String message);
    }

    private final RelayContext relay;
    private final Channel clientData;
    private final SessionPass pass;
    private final InetSocketAddress remote;
    private final boolean external;
    private final ClientIdentity identity;
    private final ForwardRef forward;
    private final Outcome outcome;

    private SessionOpening(RelayContext relay, Channel clientData, SessionPass pass, InetSocketAddress remote,
                           boolean external, Outcome outcome) {
        this.relay = relay;
        this.clientData = clientData;
        this.pass = pass;
        this.remote = remote;
        this.external = external;
        this.identity = pass.identity();
        this.forward = pass.identity().forward();
        this.outcome = outcome;
    }

    static void open(RelayContext relay, Channel clientData, SessionPass pass, InetSocketAddress remote,
                     boolean external, Outcome outcome) {
        new SessionOpening(relay, clientData, pass, remote, external, outcome).start();
    }

    private void start() {
        Instant now = relay.clock.instant();
        String invalid = !now.isBefore(pass.validUntil()) ? "session pass expired at " + pass.validUntil()
                + " (a data connection follows its grant within " + relay.handshakeTimeout.toSeconds() + " s)"
                : pass.external() != external ? "the data connection came through another listener than the session's"
                + " control connection"
                : !pass.clientAddress().equals(remote.getAddress()) ? "the data connection came from "
                + remote.getAddress().getHostAddress() + ", the session was granted to "
                + pass.clientAddress().getHostAddress()
                : !now.isBefore(identity.notAfter()) ? "certificate expired at " + identity.notAfter()
                : relay.spentPasses.usedAlready(pass);
        if (invalid != null) {
            deny(EndReason.DENIED, invalid);
            return;
        }
        relay.callHook(loop(), () -> relay.authorizer.authorize(identity, forward, remote), (decision, error) -> {
            String denial = ClientAdmission.denial(error, decision, forward, external, relay.externalClientAddresses);
            if (!clientData.isActive()) {
                return;
            }
            if (denial != null) {
                deny(EndReason.DENIED, denial);
            } else {
                admit(decision);
            }
        });
    }

    private void admit(Decision decision) {
        AgentConnection agent = relay.registry.agent(forward);
        if (agent == null || !agent.isOpen()) {
            deny(EndReason.AGENT_UNAVAILABLE, "no agent of forward " + forward + " is connected to this relay replica");
            return;
        }
        String spent = relay.spentPasses.spend(pass); // from here the pass is used, whatever follows
        if (spent != null) {
            deny(EndReason.DENIED, spent);
            return;
        }
        SessionRequests control = pass.issuer() == relay.replica ? relay.controls.get(pass.controlId()) : null;
        ClientSession session = new ClientSession(pass.sessionId(), identity, remote, external, forward,
                relay.clock.instant(), control, pass.requestId(), loop());
        if (!relay.registry.addSession(session, decision.maxSessions())) {
            deny(EndReason.DENIED, "forward " + forward + " already has its maximum of " + decision.maxSessions()
                    + " sessions");
            return;
        }
        SessionListener.Opened record = new SessionListener.Opened(session.id(), identity, remote, forward,
                session.openedAt());
        relay.callHook(loop(), () -> {
            relay.sessionListener.opened(record);
            return Boolean.TRUE;
        }, (recorded, error) -> {
            if (error != null) {
                unrecorded(session, error);
            } else {
                // a client gone meanwhile ends the recorded session at once, through its close record
                started(session, agent, decision, control);
            }
        });
    }

    private void started(ClientSession session, AgentConnection agent, Decision decision, SessionRequests control) {
        relay.sessionsOpened.incrementAndGet();
        EventLoop loop = loop();
        Instant end = ClientAdmission.end(identity, decision);
        ScheduledFuture<?> expiry = loop.schedule(() -> session.terminate(EndReason.EXPIRED,
                ClientAdmission.expiryMessage(forward, identity, end)), delayMillis(end), TimeUnit.MILLISECONDS);
        ScheduledFuture<?> pairing = loop.schedule(() -> {
            if (!session.paired()) {
                session.terminate(EndReason.AGENT_UNAVAILABLE, "the agent's data connection did not reach the relay"
                        + " within " + relay.handshakeTimeout.toSeconds() + " s");
            }
        }, relay.handshakeTimeout.toMillis(), TimeUnit.MILLISECONDS);
        relay.tickets.put(session.ticket(), session);
        session.onEnd(() -> {
            expiry.cancel(false);
            pairing.cancel(false);
            relay.tickets.remove(session.ticket(), session);
            closed(session, agent);
        });
        if (control != null) {
            control.opened(session);
        }
        ClientSession.Joined joined = session.join(DataPreamble.Side.CLIENT, clientData, remote, external, false);
        if (joined.refusal() != null) { // cannot happen for a fresh session; guards the invariant
            session.terminate(EndReason.CANCELLED, joined.refusal());
            return;
        }
        outcome.opened(session);
        if (session.ended().isDone()) {
            return; // the client left, or its early bytes were too many: no agent is asked to dial for nothing
        }
        agent.dial(session, pass.certificateSha256());
        LOG.atInfo().addKeyValue("forward", forward).addKeyValue("session", session.id()).addKeyValue("peer", remote)
                .addKeyValue("user", identity.username()).log("session opened");
    }

    private void closed(ClientSession session, AgentConnection agent) {
        relay.registry.removeSession(session);
        agent.forget(session);
        EndReason reason = session.outcome().end();
        String message = session.outcome().message();
        Duration duration = Duration.between(session.openedAt(), relay.clock.instant());
        LOG.atInfo().addKeyValue("forward", forward).addKeyValue("session", session.id())
                .addKeyValue("reason", reason).addKeyValue("bytesFromClient", session.bytesFromClient())
                .addKeyValue("bytesToClient", session.bytesToClient())
                .addKeyValue("wireBytesFromClient", session.wireBytesFromClient())
                .addKeyValue("wireBytesToClient", session.wireBytesToClient()).addKeyValue("durationMs", duration.toMillis())
                .log("session closed");
        relay.notify(() -> relay.sessionListener.closed(new SessionListener.Closed(session.id(), identity, remote,
                forward, session.bytesFromClient(), session.bytesToClient(), duration, reason, message)));
    }

    /** The opening could not be recorded: the session is refused and undone, and counted. */
    private void unrecorded(ClientSession session, Throwable error) {
        relay.sessionsUnrecorded.incrementAndGet();
        relay.registry.removeSession(session);
        session.discard();
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        LOG.atError().addKeyValue("forward", forward).addKeyValue("session", session.id())
                .addKeyValue("user", identity.username()).addKeyValue("peer", remote)
                .addKeyValue("error", String.valueOf(cause)).log("session refused: its opening could not be recorded");
        outcome.refused(EndReason.DENIED, "the relay could not record this session in the audit trail, so it is refused;"
                + " try again");
    }

    private void deny(EndReason why, String reason) {
        ClientAdmission.recordDenial(relay, identity, remote, forward, why, reason);
        outcome.refused(why, reason);
    }

    private EventLoop loop() {
        return clientData.eventLoop();
    }

    private long delayMillis(Instant end) {
        return Math.max(0, Duration.between(relay.clock.instant(), end).toMillis());
    }
}
