package dev.porthole.relay;

import dev.porthole.protocol.EndReason;
import dev.porthole.protocol.ForwardRef;
import dev.porthole.protocol.Frame;
import dev.porthole.protocol.Multiplexer;
import dev.porthole.protocol.ProtocolException;
import dev.porthole.protocol.pki.CertificateDigest;
import dev.porthole.protocol.pki.ClientIdentity;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sessions a client asks for on its control connection. Each request is decided afresh (certificate validity, the
 * {@link SessionAuthorizer}, the listener's scope rules, an agent on this replica), then granted with a sealed
 * {@link SessionPass}: the client presents it on a data connection, which may reach any replica, and that replica opens
 * the session ({@link SessionOpening}). Sessions opened on this replica from this connection are known here, so that the
 * client hears on its control connection how they end and can cancel one not yet set up. Runs on the control
 * connection's event loop.
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
    private final long id;
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
        this.id = relay.ids.incrementAndGet();
    }

    void attach(Multiplexer mux) {
        this.mux = mux;
        relay.controls.put(id, this);
    }

    void onControl(Frame frame) {
        if (frame instanceof Frame.Session request) {
            int requestId = request.streamId();
            if (requestId <= lastRequestId || requestId % 2 == 0) {
                throw new ProtocolException("session request " + requestId + " after " + lastRequestId
                        + ": request ids are odd and increasing");
            }
            lastRequestId = requestId;
            if (undecided >= MAX_UNDECIDED) {
                deny(requestId, EndReason.DENIED, "too many session requests at once on this connection ("
                        + MAX_UNDECIDED + ")");
                return;
            }
            decide(requestId);
        } else if (frame instanceof Frame.Reset cancel) {
            ClientSession session = live.get(cancel.streamId());
            if (session != null && !session.paired()) {
                session.cancelledByClient();
            }
        } else {
            throw new ProtocolException("clients send no " + frame.getClass().getSimpleName());
        }
    }

    private void decide(int requestId) {
        String refusal = ClientCheck.refusal(identity, certificate, forward, relay.clock.instant());
        if (refusal != null) {
            deny(requestId, EndReason.DENIED, refusal);
            return;
        }
        undecided++;
        relay.callHook(mux.eventLoop(), () -> relay.authorizer.authorize(identity, forward, remote), (decision, error) -> {
            undecided--;
            if (!mux.isOpen()) {
                return;
            }
            String denial = ClientAdmission.denial(error, decision, forward, external, relay.externalClientAddresses);
            if (denial != null) {
                deny(requestId, EndReason.DENIED, denial);
            } else {
                grant(requestId);
            }
        });
    }

    private void grant(int requestId) {
        AgentConnection agent = relay.registry.agent(forward);
        if (agent == null || !agent.isOpen()) {
            deny(requestId, EndReason.AGENT_UNAVAILABLE, "no agent is connected for forward " + forward);
            return;
        }
        SessionPass pass = new SessionPass(relay.nextId("session"), identity, certificateSha256, remote.getAddress(),
                external, relay.replica, id, requestId, relay.clock.instant().plus(relay.handshakeTimeout));
        byte[] body = pass.encode();
        if (!SessionPass.fits(body.length)) {
            deny(requestId, EndReason.DENIED, "the client certificate's identity (" + identity.groups().size()
                    + " groups) is too large for a session pass");
            return;
        }
        mux.sendControl(new Frame.Grant(requestId, pass.sessionId(), relay.passes.seal(pass)));
        LOG.atDebug().addKeyValue("forward", forward).addKeyValue("session", pass.sessionId()).addKeyValue("peer", remote)
                .addKeyValue("user", identity.username()).log("session granted");
    }

    private void deny(int requestId, EndReason why, String reason) {
        ClientAdmission.recordDenial(relay, identity, remote, forward, why, reason);
        mux.sendControl(new Frame.Reset(requestId, why, reason));
    }

    /** A session this connection's client asked for opened on this replica: it hears here how the session ends. */
    void opened(ClientSession session) {
        live.put(session.requestId(), session);
        session.ended().whenComplete((v, e) -> live.remove(session.requestId(), session));
    }

    /** Tells the client how a session it asked for ended, if this connection is still open. */
    void ended(int requestId, EndReason reason, String message) {
        if (mux.isOpen()) {
            mux.sendControl(new Frame.Reset(requestId, reason, message));
        }
    }

    boolean isOpen() {
        return mux != null && mux.isOpen();
    }

    /** The control connection closed: sessions already spliced go on; those still being set up are cancelled. */
    void controlClosed() {
        relay.controls.remove(id, this);
        for (ClientSession session : live.values()) {
            if (!session.paired()) {
                session.cancelledByClient();
            }
        }
    }
}
