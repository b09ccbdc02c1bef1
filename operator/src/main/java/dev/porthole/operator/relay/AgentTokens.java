package dev.porthole.operator.relay;

import dev.porthole.api.v1alpha1.Phase;
import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.operator.access.AgentTokenHash;
import dev.porthole.protocol.ForwardRef;
import dev.porthole.relay.AgentAuthenticator;
import java.util.Optional;
import java.util.function.Function;

/**
 * Accepts an agent only for an Active forward that is not being deleted, and only with the token whose hash the
 * operator published in the forward's status ({@code status.agent.tokenSha256}), compared in constant time. It reads
 * the forward from the relay's cache and never a Secret.
 */
public final class AgentTokens implements AgentAuthenticator {
    private final Function<ForwardRef, Optional<PortForward>> forwards;

    public AgentTokens(Function<ForwardRef, Optional<PortForward>> forwards) {
        this.forwards = forwards;
    }

    @Override
    public boolean authenticate(ForwardRef forward, String token) {
        Optional<PortForward> pf = forwards.apply(forward);
        if (pf.isEmpty() || pf.get().getMetadata().getDeletionTimestamp() != null || pf.get().getStatus() == null
                || pf.get().getStatus().getPhase() != Phase.Active || pf.get().getStatus().getAgent() == null) {
            return false;
        }
        return AgentTokenHash.matches(token, pf.get().getStatus().getAgent().getTokenSha256());
    }
}
