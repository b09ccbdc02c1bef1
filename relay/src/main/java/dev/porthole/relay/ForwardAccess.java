package dev.porthole.relay;

import dev.porthole.protocol.ForwardRef;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The one rule for using a forward, shared by everything that grants use: the operator's certificate signer, the
 * relay's per-session gate and the standalone relay. The forward exists; it is the one a certificate was issued for
 * (same uid, not a later forward of the same name); it is neither being deleted nor expired; it is Active; the
 * identity is in its audience. Each caller adds only what is its own (a session limit, source ranges, a
 * certificate's lifetime).
 */
public final class ForwardAccess {
    private ForwardAccess() {
    }

    /** Who may use a forward. */
    @FunctionalInterface
    public interface Audience {
        boolean admits(String username, List<String> groups);
    }

    /**
     * What the rule needs to know of a forward, however it is stored. {@code inactivePhase}: empty when the forward
     * is Active, else the phase to name in the refusal.
     */
    public record Forward(String uid, Instant expiresAt, boolean deleting, Optional<String> inactivePhase, Audience audience) {
    }

    /** Who asks: the identity, and the forward uid its certificate is bound to (empty before a certificate exists). */
    public record Requester(String username, List<String> groups, Optional<String> certificateUid) {
        /** A certificate holder; a certificate without a uid matches no forward. */
        public static Requester withCertificate(String username, List<String> groups, String certificateUid) {
            return new Requester(username, groups, Optional.of(certificateUid == null ? "" : certificateUid));
        }

        /** Someone asking for a certificate: the one issued is bound to the forward's uid as it is now. */
        public static Requester beforeCertificate(String username, List<String> groups) {
            return new Requester(username, groups, Optional.empty());
        }
    }

    /**
     * Empty when {@code requester} may use the existing forward {@code f} (named {@code name}) at {@code now}; else
     * why not. (A missing forward each caller words for its own users.)
     */
    public static Optional<String> refusal(ForwardRef name, Forward f, Requester requester, Instant now) {
        // the name alone is reusable: a certificate is for the forward that existed when it was signed
        if (requester.certificateUid().isPresent() && !requester.certificateUid().get().equals(f.uid())) {
            return Optional.of(Decision.denyEarlierForward(name, requester.certificateUid().get()).reason());
        }
        if (f.deleting()) {
            return Optional.of("forward " + name + " is being deleted");
        }
        if (!now.isBefore(f.expiresAt())) {
            return Optional.of("forward " + name + " expired at " + f.expiresAt());
        }
        if (f.inactivePhase().isPresent()) {
            return Optional.of("forward " + name + " is " + f.inactivePhase().get() + ", not Active");
        }
        if (!f.audience().admits(requester.username(), requester.groups())) {
            return Optional.of(requester.username() + " is not in the audience of forward " + name);
        }
        return Optional.empty();
    }
}
