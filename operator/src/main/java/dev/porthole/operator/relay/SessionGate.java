package dev.porthole.operator.relay;

import dev.porthole.protocol.ForwardRef;
import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.operator.access.ForwardFacts;
import dev.porthole.operator.policy.EffectivePolicy;
import dev.porthole.protocol.BindScope;
import dev.porthole.protocol.pki.ClientIdentity;
import dev.porthole.relay.Decision;
import dev.porthole.relay.ForwardAccess;
import dev.porthole.relay.SessionAuthorizer;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.Optional;
import java.util.function.Function;

/**
 * The relay's per-session check, made on the forward as it is now (the certificate's chain, forward and
 * validity were already checked by the relay): {@link ForwardAccess}'s rule (exists, same uid as the
 * certificate, Active, not expired, identity in the audience), then what only sessions have: a Public forward
 * is reached from inside its {@code sourceRanges}, and {@code maxSessions} is not reached.
 */
public final class SessionGate implements SessionAuthorizer {
    private final Function<ForwardRef, Optional<PortForward>> forwards;
    private final Function<String, EffectivePolicy> policies;
    private final ForwardActivity activity;
    private final Clock clock;

    /** {@code policies} gives the effective policy of a namespace (its session limit applies too). */
    public SessionGate(Function<ForwardRef, Optional<PortForward>> forwards, Function<String, EffectivePolicy> policies,
                       ForwardActivity activity, Clock clock) {
        this.forwards = forwards;
        this.policies = policies;
        this.activity = activity;
        this.clock = clock;
    }

    @Override
    public Decision authorize(ClientIdentity identity, ForwardRef forward, InetSocketAddress clientAddress) {
        Optional<PortForward> found = forwards.apply(forward);
        if (found.isEmpty()) {
            return Decision.deny("forward " + forward + " does not exist (revoked or expired)");
        }
        PortForward pf = found.get();
        ForwardAccess.Forward facts = ForwardFacts.of(pf);
        Optional<String> refusal = ForwardAccess.refusal(forward, facts,
                ForwardAccess.Requester.withCertificate(identity.username(), identity.groups(), identity.forwardUid()),
                clock.instant());
        if (refusal.isPresent()) {
            return Decision.deny(refusal.get());
        }
        if (pf.getSpec().effectiveBindScope() == dev.porthole.api.v1alpha1.BindScope.Public
                && pf.getSpec().getSourceRanges() != null
                && !SourceRanges.contains(pf.getSpec().getSourceRanges(), clientAddress.getAddress())) {
            return Decision.deny("client address " + clientAddress.getAddress().getHostAddress()
                    + " is outside the sourceRanges of forward " + forward);
        }
        int max = policies.apply(pf.getMetadata().getNamespace()).sessionLimit(pf.getSpec().getMaxSessions());
        if (activity.activeSessions(forward) >= max) {
            return Decision.deny("forward " + forward + " already has its maximum of " + max + " sessions");
        }
        // The count above refuses early; the relay enforces the limit atomically when it adds the session.
        return Decision.allow(BindScope.parse(pf.getSpec().effectiveBindScope().name()), facts.expiresAt(), max);
    }
}
