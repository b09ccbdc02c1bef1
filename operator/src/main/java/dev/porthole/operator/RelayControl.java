package dev.porthole.operator;

/** What the reconciler needs from the relay: ending every live session of a forward. */
public interface RelayControl {
    RelayControl NONE = (forward, reason) -> { };

    /** Closes all sessions and the agent connection of {@code forward} ("namespace/name"); reason "expired" or "revoked". */
    void closeForward(String forward, String reason);

    /** Calls {@code this}, then {@code other}. */
    default RelayControl andThen(RelayControl other) {
        return (forward, reason) -> {
            closeForward(forward, reason);
            other.closeForward(forward, reason);
        };
    }
}
