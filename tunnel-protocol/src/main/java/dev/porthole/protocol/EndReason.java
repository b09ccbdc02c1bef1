package dev.porthole.protocol;

/**
 * Why a session, a stream or a connection ended. Travels on the wire (RESET, GOAWAY, refused WELCOME)
 * so the far side can tell its user why, and reaches the relay's audit records.
 */
public enum EndReason {
    /** The client closed its side first. */
    CLIENT_CLOSED(1),
    /** The target (the service behind the agent) closed its side first. */
    TARGET_CLOSED(2),
    /** The agent could not connect to the target. */
    TARGET_REFUSED(3),
    /** The forward or the credential reached its end of life. */
    EXPIRED(4),
    /** The forward was deleted or revoked. */
    REVOKED(5),
    /** The agent connection was lost (closed, dead peer, replaced). */
    AGENT_LOST(6),
    /** The relay is shutting down. */
    RELAY_SHUTDOWN(7),
    /** Authentication or authorisation refused the session. */
    DENIED(8),
    /** The peer sent something that breaks the protocol. */
    PROTOCOL_ERROR(9),
    /** No agent is connected for the requested forward. */
    AGENT_UNAVAILABLE(10),
    /** The local end of a stream failed (socket error) and aborted it. */
    CANCELLED(11),
    /** The agent reached its deadline and left. */
    AGENT_EXITED(12),
    /**
     * Policy, or its creator's own rights, no longer allow the forward. Unlike {@link #REVOKED} the forward still
     * exists and may be allowed again; its agent leaves all the same, and a new one is injected if it is.
     */
    REJECTED(13);

    private final int code;

    EndReason(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    public static EndReason fromCode(int code) {
        for (EndReason reason : values()) {
            if (reason.code == code) {
                return reason;
            }
        }
        throw new ProtocolException("unknown end reason code " + code);
    }
}
