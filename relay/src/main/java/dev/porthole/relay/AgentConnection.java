package dev.porthole.relay;

import dev.porthole.protocol.EndReason;
import dev.porthole.protocol.ForwardRef;
import dev.porthole.protocol.Frame;
import dev.porthole.protocol.Multiplexer;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An authenticated agent: the forward it serves, its control connection, and the sessions it was asked to dial (by
 * their id on that connection), so that its reports of how they ended reach them.
 */
final class AgentConnection {

    private final ForwardRef forward;
    private final InetSocketAddress remoteAddress;
    private final AtomicInteger nextDialId = new AtomicInteger(1);
    private final Map<Integer, ClientSession> dialled = new ConcurrentHashMap<>();
    private volatile Multiplexer mux;

    AgentConnection(ForwardRef forward, InetSocketAddress remoteAddress) {
        this.forward = forward;
        this.remoteAddress = remoteAddress;
    }

    void attach(Multiplexer mux) {
        this.mux = mux;
    }

    ForwardRef forward() {
        return forward;
    }

    InetSocketAddress remoteAddress() {
        return remoteAddress;
    }

    Multiplexer mux() {
        return mux;
    }

    boolean isOpen() {
        return mux.isOpen();
    }

    /** Asks the agent to dial {@code session}'s data connection and accept only {@code clientCertificateSha256}. */
    void dial(ClientSession session, byte[] clientCertificateSha256) {
        int id = nextDialId.getAndAdd(2);
        if (id < 0) { // ids wrapped after a billion sessions on one connection: start over
            nextDialId.set(3);
            id = 1;
        }
        session.dialledThrough(this, id);
        dialled.put(id, session);
        mux.sendControl(new Frame.Dial(id, session.id(), session.ticket(), clientCertificateSha256));
    }

    /** The agent reported how a session ended ({@link Frame.Ended}); it sends nothing else. */
    void onControl(Frame frame) {
        if (!(frame instanceof Frame.Ended ended)) {
            throw new dev.porthole.protocol.ProtocolException("agents send no " + frame.getClass().getSimpleName());
        }
        ClientSession session = dialled.remove(ended.streamId());
        if (session != null) {
            session.agentReported(ended.reason(), ended.message(), ended.bytesToTarget(), ended.bytesFromTarget());
        }
    }

    /** The session ended: its reports are no longer awaited. */
    void forget(ClientSession session) {
        dialled.remove(session.agentStreamId(), session);
    }

    /** Sessions asked to dial and not yet ended. */
    List<ClientSession> dialledSessions() {
        return List.copyOf(dialled.values());
    }

    void close(EndReason reason, String message) {
        mux.close(reason, message);
    }
}
