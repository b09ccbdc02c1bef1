package dev.porthole.operator;

import java.util.Locale;

/** Where the relay runs: inside the operator's process, or as its own Deployment ({@code ClusterRelayMain}). */
public enum RelayMode {
    /** The operator runs the relay and tells it directly which forwards ended. */
    EMBEDDED,
    /**
     * The relay runs apart, with its own ServiceAccount (read forwards and policies, write Events); the operator listens
     * on no data-plane port and learns what the relay saw from its Events. Restarting the operator cuts no session.
     */
    SEPARATE;

    /** Reads {@code Embedded} or {@code Separate} (any case). */
    public static RelayMode parse(String text) {
        try {
            return valueOf(text.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("PORTHOLE_RELAY_MODE must be Embedded or Separate, got '" + text + "'", e);
        }
    }
}
