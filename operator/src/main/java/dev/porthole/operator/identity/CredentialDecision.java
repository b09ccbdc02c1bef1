package dev.porthole.operator.identity;

import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.operator.access.ForwardFacts;
import dev.porthole.operator.access.ForwardRefs;
import dev.porthole.protocol.ForwardRef;
import dev.porthole.relay.ForwardAccess;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Whether a client certificate may be issued ({@link ForwardAccess}'s rule, then its lifetime), judged only on the identity the API server stamped on
 * the request (never on anything the requester wrote) and on the forward as it is now.
 */
public record CredentialDecision(boolean approved, String reason, Instant notAfter) {

    public static CredentialDecision decide(String forwardName, Optional<PortForward> forward, String username,
                                            List<String> groups, Long requestedSeconds, Instant now) {
        if (forwardName == null) {
            return deny("the request names no forward (annotation porthole.dev/forward: NAMESPACE/NAME)");
        }
        try {
            ForwardRef.parse(forwardName);
        } catch (IllegalArgumentException e) {
            return deny("annotation porthole.dev/forward: " + e.getMessage());
        }
        if (forward.isEmpty()) {
            return deny("forward " + forwardName + " does not exist");
        }
        PortForward pf = forward.get();
        ForwardAccess.Forward facts = ForwardFacts.of(pf);
        Optional<String> refusal = ForwardAccess.refusal(ForwardRefs.of(pf), facts,
                ForwardAccess.Requester.beforeCertificate(username, groups), now);
        if (refusal.isPresent()) {
            return deny(refusal.get());
        }
        Instant notAfter = facts.expiresAt();
        if (requestedSeconds != null && now.plusSeconds(requestedSeconds).isBefore(notAfter)) {
            notAfter = now.plusSeconds(requestedSeconds);
        }
        return new CredentialDecision(true, "in the audience of forward " + forwardName, notAfter);
    }

    private static CredentialDecision deny(String reason) {
        return new CredentialDecision(false, reason, null);
    }
}
