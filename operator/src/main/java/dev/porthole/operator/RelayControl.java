package dev.porthole.operator;

import dev.porthole.protocol.ForwardRef;
import dev.porthole.protocol.EndReason;

/** What the reconciler needs from the relay: ending every live session of a forward, and forgetting a deleted one. */
public interface RelayControl {
    RelayControl NONE = (forward, reason, why) -> { };

    /**
     * Closes all sessions and the agent connection of {@code forward} ("namespace/name"): {@code reason} (EXPIRED,
     * REVOKED or REJECTED) travels to the agent and the clients, {@code why} is the sentence they and the records show.
     */
    void closeForward(ForwardRef forward, EndReason reason, String why);

    /**
     * The forward {@code forward} with this {@code uid} is deleted: what the relay remembers of it may go, once the
     * records of its last sessions are written (a forward re-created under the same name is not affected).
     */
    default void forget(ForwardRef forward, String uid) {
    }

    /** Calls {@code this}, then {@code other}. */
    default RelayControl andThen(RelayControl other) {
        RelayControl first = this;
        return new RelayControl() {
            @Override
            public void closeForward(ForwardRef forward, EndReason reason, String why) {
                first.closeForward(forward, reason, why);
                other.closeForward(forward, reason, why);
            }

            @Override
            public void forget(ForwardRef forward, String uid) {
                first.forget(forward, uid);
                other.forget(forward, uid);
            }
        };
    }
}
