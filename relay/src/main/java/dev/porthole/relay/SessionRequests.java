package dev.porthole.relay;

import dev.porthole.protocol.EndReason;
import dev.porthole.protocol.ForwardRef;
import dev.porthole.protocol.Frame;
import dev.porthole.protocol.Multiplexer;
import dev.porthole.protocol.ProtocolException;
import dev.porthole.protocol.pki.CertificateDigest;
import dev.porthole.protocol.pki.ClientIdentity;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sessions a client asks for on its control connection. Each request is decided afresh (certificate validity, the
 * {@link SessionAuthorizer}, the listener's scope rules, an agent, the forward's session limit), then recorded (fail
 * closed: a session whose opening the {@link SessionListener} cannot record is refused), then granted: the agent is told
 * to dial, the client gets the ticket, and both data connections must arrive within the handshake timeout. Runs on the
 * control connection's event loop.
 */
final class SessionRequests {

    private static final Logger LOG = LoggerFactory.getLogger(SessionRequests.class);
    /** Requests one connection may have being decided at once; more are refused, never queued. */
    static final int MAX_UNDECIDED = 64;

    private final RelayContext relay;
    private final ClientIdentity identity;
    private final X509Certificate certificate;
    private final byte[] certificateSha256;
    private final InetSocketAddress remote;
    private final boolean external;
    private final ForwardRef forward;
    private final Map<Integer, ClientSession> live = new ConcurrentHashMap<>();
    private Multiplexer mux;
    private int lastRequestId;
    private int undecided;

    SessionRequests(RelayContext relay, ClientIdentity identity, X509Certificate certificate, InetSocketAddress remote,
                    boolean external) {
        this.relay = relay;
        this.identity = identity;
        this.certificate = certificate;
        this.certificateSha256 = CertificateDigest.sha256(certificate);
        this.remote = remote;
        this.external = external;
        this.forward = identity.forward();
    }

    void attach(Multiplexer mux) {
        this.mux = mux;
    }

    void onControl(Frame frame) {
        if (frame instanceof Frame.Session request) {
            int id = request.streamId();
            if (id <= lastRequestId || id % 2 == 0) {
                throw new ProtocolException("session request " + id + " after " + lastRequestId
                        + ": request ids are odd and increasing");
            }
            lastRequestId = id;
            if (undecided >= MAX_UNDECIDED) {
                deny(id, EndReason.DENIED, "too many session requests at once on this connection (" + MAX_UNDECIDED + ")");
                return;
            }
            decide(id);
        } else if (frame instanceof Frame.Reset cancel) {
            ClientSession session = live.get(cancel.streamId());
            if (session != null && !session.paired()) {
                session.cancelledByClient();
            }
        } else {
            throw new ProtocolException("clients send no " + frame.getClass().getSimpleName());
        }
    }

    private void decide(int id) {
        String refusal = ClientCheck.refusal(identity, certificate, forward, relay.clock.instant());
        if (refusal != null) {
            deny(id, EndReason.DENIED, refusal);
            return;
        }
        undecided++;
        relay.callHook(loop(), () -> relay.authorizer.authorize(identity, forward, remote), (decision, error) -> {
            undecided--;
            if (!mux.isOpen()) {
                return;
            }
            String denial = ClientAdmission.denial(error, decision, forward, external, relay.externalClientAddresses);
            if (denial != null) {
                deny(id, EndReason.DENIED, denial);
            } else {
                grant(id, decision);
            }
        });
    }

    private void grant(int id, Decision decision) {
        AgentConnection agent = relay.registry.agent(forward);
        if (agent == null || !agent.isOpen()) {
            deny(id, EndReason.AGENT_UNAVAILABLE, "no agent is connected for forward " + forward);
            return;
        }
        ClientSession session = new ClientSession(relay.nextId("session"), identity, remote, external, forward,
                relay.clock.instant(), mux, id);
        if (!relay.registry.addSession(session, decision.maxSessions())) {
            deny(id, EndReason.DENIED, "forward " + forward + " already has its maximum of " + decision.maxSessions()
                    + " sessions");
            return;
        }
        SessionListener.Opened record = new SessionListener.Opened(session.id(), identity, remote, forward,
                session.openedAt());
        undecided++;
        relay.callHook(loop(), () -> {
            relay.sessionListener.opened(record);
            return Boolean.TRUE;
        }, (recorded, error) -> {
            undecided--;
            if (error == null) {
                started(session, agent, decision);
            } else {
                unrecorded(session, error);
            }
        });
    }

    private void started(ClientSession session, AgentConnection agent, Decision decision) {
        relay.sessionsOpened.incrementAndGet();
        EventLoop loop = loop();
        Instant end = ClientAdmission.end(identity, decision);
        ScheduledFuture<?> expiry = loop.schedule(() -> session.terminate(EndReason.EXPIRED,
                ClientAdmission.expiryMessage(forward, identity, end)), delayMillis(end), TimeUnit.MILLISECONDS);
        ScheduledFuture<?> pairing = loop.schedule(() -> {
            if (!session.paired()) {
                session.terminate(EndReason.AGENT_UNAVAILABLE, "the session's data connections did not both reach the"
                        + " relay within " + relay.handshakeTimeout.toSeconds() + " s");
            }
        }, relay.handshakeTimeout.toMillis(), TimeUnit.MILLISECONDS);
        live.put(session.requestId(), session);
        relay.tickets.put(session.ticket(), session);
        session.onEnd(() -> {
            expiry.cancel(false);
            pairing.cancel(false);
            relay.tickets.remove(session.ticket(), session);
            live.remove(session.requestId(), session);
            closed(session, agent);
        });
        if (!mux.isOpen()) {
            session.terminate(EndReason.CLIENT_CLOSED, "client left before the session opened");
            return;
        }
        agent.dial(session, certificateSha256);
        mux.sendControl(new Frame.Grant(session.requestId(), session.id(), session.ticket()));
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
        mux.sendControl(new Frame.Reset(session.requestId(), EndReason.DENIED,
                "the relay could not record this session in the audit trail, so it is refused; try again"));
    }

    private void deny(int id, EndReason why, String reason) {
        ClientAdmission.recordDenial(relay, identity, remote, forward, why, reason);
        mux.sendControl(new Frame.Reset(id, why, reason));
    }

    /** The control connection closed: sessions already spliced go on; those still being set up are cancelled. */
    void controlClosed() {
        for (ClientSession session : live.values()) {
            if (!session.paired()) {
                session.cancelledByClient();
            }
        }
    }

    private EventLoop loop() {
        return mux.eventLoop();
    }

    private long delayMillis(Instant end) {
        return Math.max(0, Duration.between(relay.clock.instant(), end).toMillis());
    }
}
