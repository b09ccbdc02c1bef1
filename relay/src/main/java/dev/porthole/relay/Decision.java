package dev.porthole.relay;

import dev.porthole.protocol.BindScope;
import java.time.Instant;
import java.util.Objects;

/**
 * A {@link SessionAuthorizer}'s answer. Allowed sessions carry the forward's bind scope (told to the
 * client, which binds accordingly) and its expiry (the relay ends the session then).
 */
public record Decision(boolean allowed, String reason, BindScope scope, Instant expiresAt) {

    public Decision {
        Objects.requireNonNull(reason, "reason");
        if (allowed) {
            Objects.requireNonNull(scope, "scope");
            Objects.requireNonNull(expiresAt, "expiresAt");
        }
    }

    public static Decision allow(BindScope scope, Instant expiresAt) {
        return new Decision(true, "allowed", scope, expiresAt);
    }

    public static Decision deny(String reason) {
        return new Decision(false, reason, null, null);
    }
}
