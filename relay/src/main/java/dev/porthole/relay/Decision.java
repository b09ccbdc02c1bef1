package dev.porthole.relay;

import dev.porthole.protocol.ForwardRef;
import dev.porthole.protocol.BindScope;
import java.time.Instant;
import java.util.Objects;

/**
 * A {@link SessionAuthorizer}'s answer. Allowed sessions carry the forward's bind scope (told to the
 * client, which binds accordingly), its expiry (the relay ends the session then) and its session limit:
 * the relay admits the session only if, counted atomically with the sessions it already holds, the forward
 * stays within {@code maxSessions} (0: no limit). An authorizer's own count can only be a first check:
 * two sessions decided at the same moment would both see the last free slot.
 */
public record Decision(boolean allowed, String reason, BindScope scope, Instant expiresAt, int maxSessions) {

    public Decision {
        Objects.requireNonNull(reason, "reason");
        if (allowed) {
            Objects.requireNonNull(scope, "scope");
            Objects.requireNonNull(expiresAt, "expiresAt");
        }
        if (maxSessions < 0) {
            throw new IllegalArgumentException("maxSessions must not be negative: " + maxSessions);
        }
    }

    /** Allows a session with no session limit. */
    public static Decision allow(BindScope scope, Instant expiresAt) {
        return allow(scope, expiresAt, 0);
    }

    /** Allows a session if the forward then has at most {@code maxSessions} sessions (0: no limit). */
    public static Decision allow(BindScope scope, Instant expiresAt, int maxSessions) {
        return new Decision(true, "allowed", scope, expiresAt, maxSessions);
    }

    public static Decision deny(String reason) {
        return new Decision(false, reason, null, null, 0);
    }

    /**
     * Denies a certificate bound to another forward that had the same name (its uid is not the current
     * forward's): every authorizer words this the same, so the CLI can tell the user what to do.
     */
    public static Decision denyEarlierForward(ForwardRef forward, String certificateUid) {
        return deny("certificate was issued for an earlier forward named " + forward + " (uid " + certificateUid
                + "); request a new one");
    }
}
