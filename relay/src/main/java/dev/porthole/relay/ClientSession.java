package dev.porthole.relay;

import dev.porthole.protocol.ForwardRef;
import dev.porthole.protocol.EndReason;
import dev.porthole.protocol.ProtocolException;
import dev.porthole.protocol.Stream;
import dev.porthole.protocol.StreamHandler;
import dev.porthole.protocol.pki.ClientIdentity;
import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One client session spliced onto one agent stream. Data read on one stream is written to the other; its
 * credit goes back to the sender only once written, so the relay holds at most one window per direction.
 * The client connection is moved onto the agent connection's event loop when the session is admitted
 * ({@code TunnelPipeline.moveToEventLoop}), so both streams run on one thread and hand frames and credit
 * to each other directly; {@link Stream}'s methods would still hop if they were called from elsewhere.
 */
final class ClientSession {

    private final String id;
    private final ClientIdentity identity;
    private final InetSocketAddress clientAddress;
    private final ForwardRef forward;
    private final Instant openedAt;
    private final SessionOutcome outcome = new SessionOutcome();
    private final AtomicLong bytesFromClient = new AtomicLong();
    private final AtomicLong bytesToClient = new AtomicLong();
    private volatile Stream clientStream;
    private volatile Stream agentStream;
    private final java.util.concurrent.CompletableFuture<Void> ended = new java.util.concurrent.CompletableFuture<>();

    ClientSession(String id, ClientIdentity identity, InetSocketAddress clientAddress, ForwardRef forward, Instant openedAt) {
        this.id = id;
        this.identity = identity;
        this.clientAddress = clientAddress;
        this.forward = forward;
        this.openedAt = openedAt;
    }

    String id() {
        return id;
    }

    ClientIdentity identity() {
        return identity;
    }

    InetSocketAddress clientAddress() {
        return clientAddress;
    }

    ForwardRef forward() {
        return forward;
    }

    Instant openedAt() {
        return openedAt;
    }

    SessionOutcome outcome() {
        return outcome;
    }

    long bytesFromClient() {
        return bytesFromClient.get();
    }

    long bytesToClient() {
        return bytesToClient.get();
    }

    void clientStream(Stream stream) {
        this.clientStream = stream;
    }

    void agentStream(Stream stream) {
        this.agentStream = stream;
    }

    Stream clientStream() {
        return clientStream;
    }

    Stream agentStream() {
        return agentStream;
    }

    /** Completes once the session is over and forgotten by the registry. */
    java.util.concurrent.CompletableFuture<Void> ended() {
        return ended;
    }

    void markEnded() {
        ended.complete(null);
    }

    /** Ends the session for a relay decision (revocation, expiry, shutdown): both streams are reset. */
    void terminate(EndReason reason, String message) {
        if (outcome.force(reason, message)) {
            clientStream.reset(reason, message);
            Stream agent = agentStream;
            if (agent != null) {
                agent.reset(reason, message);
            }
        }
    }

    /** Handler of the client's stream (the agent connection's event loop, like everything of the session). */
    final StreamHandler clientSide = new StreamHandler() {
        @Override
        public void onData(Stream stream, ByteBuf data) {
            Stream agent = agentStream;
            if (agent == null) {
                data.release();
                throw new ProtocolException("client sent data before the session was accepted");
            }
            int bytes = data.readableBytes();
            bytesFromClient.addAndGet(bytes);
            agent.write(data, () -> stream.consumed(bytes));
        }

        @Override
        public void onRemoteClose(Stream stream) {
            outcome.offer(EndReason.CLIENT_CLOSED, "client closed the connection");
            Stream agent = agentStream;
            if (agent != null) {
                agent.close();
            }
        }

        @Override
        public void onReset(Stream stream, EndReason reason, String message) {
            outcome.offer(SessionOutcome.fromClient(reason), message);
            Stream agent = agentStream;
            if (agent != null) {
                agent.reset(EndReason.CANCELLED, "client went away");
            }
        }
    };

    /** Handler of the agent's stream (agent event loop). */
    final StreamHandler agentSide = new StreamHandler() {
        @Override
        public void onData(Stream stream, ByteBuf data) {
            int bytes = data.readableBytes();
            bytesToClient.addAndGet(bytes);
            clientStream.write(data, () -> stream.consumed(bytes));
        }

        @Override
        public void onRemoteClose(Stream stream) {
            outcome.offer(EndReason.TARGET_CLOSED, "target closed the connection");
            clientStream.close();
        }

        @Override
        public void onReset(Stream stream, EndReason reason, String message) {
            EndReason mapped = SessionOutcome.fromAgent(reason);
            outcome.offer(mapped, message);
            clientStream.reset(mapped, message);
        }
    };
}
