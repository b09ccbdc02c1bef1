package dev.porthole.operator;

/** What the reconciler needs from the relay: ending every live session of a forward, and forgetting a deleted one. */
public interface RelayControl {
    RelayControl NONE = (forward, reason) -> { };

    /** Closes all sessions and the agent connection of {@code forward} ("namespace/name"); reason "expired" or "revoked". */
    void closeForward(String forward, String reason);

    /**
     * The forward {@code forward} with this {@code uid} is deleted: what the relay remembers of it may go, once the
     * records of its last sessions are written (a forward re-created under the same name is not affected).
     */
    default void forget(String forward, String uid) {
    }

    /** Calls {@code this}, then {@code other}. */
    default RelayControl andThen(RelayControl other) {
        RelayControl first = this;
        return new RelayControl() {
            @Override
            public void closeForward(String forward, String reason) {
                first.closeForward(forward, reason);
                other.closeForward(forward, reason);
            }

            @Override
            public void forget(String forward, String uid) {
                first.forget(forward, uid);
                other.forget(forward, uid);
            }
        };
    }
}
