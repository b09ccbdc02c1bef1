package dev.porthole.operator.policy;

import dev.porthole.api.v1alpha1.BindScope;
import dev.porthole.api.v1alpha1.Exclusion;
import java.time.Duration;
import java.util.Set;

/**
 * The limits that apply to one forward: the strictest of every matching PortForwardPolicy, or the
 * defaults (8h, Loopback only, reason optional, 10 sessions, no exclusion lifted, 4 agents per pod)
 * where no policy says otherwise. {@code allowedPorts} empty means every port.
 */
public record EffectivePolicy(Duration maxTtl, Set<BindScope> allowedBindScopes, Set<Integer> allowedPorts,
                              boolean requireReason, int maxSessions, boolean allowAnySource,
                              Set<Exclusion> liftedExclusions, int maxAgentsPerPod) {

    public static final int DEFAULT_MAX_AGENTS_PER_POD = 4;

    public static final EffectivePolicy DEFAULTS = new EffectivePolicy(Duration.ofHours(8), Set.of(BindScope.Loopback),
            Set.of(), false, 10, false, Set.of(), DEFAULT_MAX_AGENTS_PER_POD);

    public EffectivePolicy {
        liftedExclusions = Set.copyOf(liftedExclusions);
    }

    /** The sessions a forward may hold at once: its own {@code maxSessions} if lower, else the policy's. */
    public int sessionLimit(Integer requested) {
        return requested == null ? maxSessions : Math.min(requested, maxSessions);
    }

    public boolean lifts(Exclusion exclusion) {
        return liftedExclusions.contains(exclusion);
    }
}
