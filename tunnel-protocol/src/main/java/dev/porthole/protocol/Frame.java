package dev.porthole.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;
import java.time.Instant;

/** Every message on a Porthole connection. Connection-level frames use stream id 0. */
public sealed interface Frame {

    /** The frame's stream, 0 for connection-level frames. */
    int streamId();

    /** First frame from the dialling side: who it is and what it wants. */
    record Hello(int version, Role role, String forward, String token, int window) implements Frame {
        @Override
        public int streamId() {
            return 0;
        }

        @Override
        public String toString() {
            return "Hello[version=" + version + ", role=" + role + ", forward=" + forward + ", token=<"
                    + token.length() + " chars>, window=" + window + "]";
        }
    }

    /**
     * The listener's answer to a HELLO. When refused, {@code refusal} and {@code message} say why and the
     * connection closes; when accepted, clients learn the forward's bind scope and expiry.
     */
    record Welcome(int version, boolean accepted, EndReason refusal, String message, BindScope scope,
                   Instant expiresAt, String sessionId, int window) implements Frame {
        public static Welcome accept(BindScope scope, Instant expiresAt, String sessionId, int window) {
            return new Welcome(Protocol.VERSION, true, null, "", scope, expiresAt, sessionId, window);
        }

        public static Welcome refuse(EndReason refusal, String message) {
            return new Welcome(Protocol.VERSION, false, refusal, message, BindScope.LOOPBACK, Instant.EPOCH, "", 0);
        }

        @Override
        public int streamId() {
            return 0;
        }
    }

    /** Relay to agent: open a stream to the target. */
    record Open(int streamId) implements Frame {
    }

    /** Stream bytes. Reference-counted: whoever holds it releases it. */
    final class Data extends DefaultByteBufHolder implements Frame {
        private final int streamId;

        public Data(int streamId, ByteBuf content) {
            super(content);
            this.streamId = streamId;
        }

        @Override
        public int streamId() {
            return streamId;
        }

        @Override
        public Data replace(ByteBuf content) {
            return new Data(streamId, content);
        }

        @Override
        public String toString() {
            return "Data[stream=" + streamId + ", bytes=" + (refCnt() > 0 ? content().readableBytes() : -1) + "]";
        }
    }

    /** The receiver consumed {@code increment} bytes of the stream; the sender may send that much more. */
    record WindowUpdate(int streamId, int increment) implements Frame {
    }

    /** The sender will send no more data on the stream (half-close). */
    record Close(int streamId) implements Frame {
    }

    /** The stream is aborted; both sides forget it. */
    record Reset(int streamId, EndReason reason, String message) implements Frame {
    }

    /** Keepalive probe; the peer answers with a PONG carrying the same payload. */
    record Ping(long payload) implements Frame {
        @Override
        public int streamId() {
            return 0;
        }
    }

    /** Keepalive answer. */
    record Pong(long payload) implements Frame {
        @Override
        public int streamId() {
            return 0;
        }
    }

    /** The sender is closing the whole connection, and says why. */
    record GoAway(EndReason reason, String message) implements Frame {
        @Override
        public int streamId() {
            return 0;
        }
    }

    /**
     * Client to relay, on its control connection: open a session. {@code streamId} names the request (odd, chosen by
     * the client, increasing); the relay answers with a {@link Grant} or a {@link Reset} on the same id, and later
     * resets that id when it ends the session (expiry, revocation).
     */
    record Session(int streamId) implements Frame {
    }

    /**
     * Relay to client: the session is authorised; dial a data connection to the relays (any replica) with {@code pass}
     * within the handshake timeout and run the end-to-end TLS handshake with the agent through it. The pass is sealed
     * by the relays (opaque to the client, at most {@link DataPreamble#MAX_CREDENTIAL} bytes): the replica the data
     * connection reaches opens the session from it.
     */
    record Grant(int streamId, String sessionId, byte[] pass) implements Frame {
        public Grant {
            if (pass.length == 0 || pass.length > DataPreamble.MAX_CREDENTIAL) {
                throw new IllegalArgumentException("a session pass is 1 to " + DataPreamble.MAX_CREDENTIAL + " bytes");
            }
            pass = pass.clone();
        }

        @Override
        public byte[] pass() {
            return pass.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Grant g && g.streamId == streamId && g.sessionId.equals(sessionId)
                    && java.util.Arrays.equals(g.pass, pass);
        }

        @Override
        public int hashCode() {
            return java.util.Objects.hash(streamId, sessionId, java.util.Arrays.hashCode(pass));
        }

        @Override
        public String toString() {
            return "Grant[stream=" + streamId + ", session=" + sessionId + ", pass=" + pass.length + " bytes]";
        }
    }

    /**
     * Relay to agent, on its control connection: a session was granted; dial a data connection with {@code ticket} and
     * accept, as the TLS server, only the client certificate whose SHA-256 is {@code clientCertificateSha256}.
     * {@code streamId} (odd, chosen by the relay) names the session on this connection: the agent resets it when the
     * session ends, saying why.
     */
    record Dial(int streamId, String sessionId, SessionTicket ticket, byte[] clientCertificateSha256) implements Frame {
        public Dial {
            if (clientCertificateSha256.length != 32) {
                throw new IllegalArgumentException("a certificate digest is 32 bytes");
            }
            clientCertificateSha256 = clientCertificateSha256.clone();
        }

        @Override
        public byte[] clientCertificateSha256() {
            return clientCertificateSha256.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Dial d && d.streamId == streamId && d.sessionId.equals(sessionId)
                    && d.ticket.equals(ticket) && java.util.Arrays.equals(d.clientCertificateSha256, clientCertificateSha256);
        }

        @Override
        public int hashCode() {
            return java.util.Objects.hash(streamId, sessionId, ticket);
        }

        @Override
        public String toString() {
            return "Dial[stream=" + streamId + ", session=" + sessionId + "]";
        }
    }

    /**
     * Agent to relay, on its control connection: how the session the relay dialled as {@code streamId} ended, and how
     * many bytes of payload the agent passed to and from the target (the relay sees only ciphertext, so this is where
     * the audit's byte counts come from). Also the agent's refusal of a dial it cannot serve.
     */
    record Ended(int streamId, EndReason reason, String message, long bytesToTarget, long bytesFromTarget) implements Frame {
        public Ended {
            if (bytesToTarget < 0 || bytesFromTarget < 0) {
                throw new IllegalArgumentException("byte counts are not negative");
            }
        }
    }
}
