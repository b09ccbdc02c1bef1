package dev.porthole.operator.policy;

import dev.porthole.api.v1alpha1.BindScope;
import java.time.Duration;
import java.util.Set;

/**
 * The limits that apply to one forward: the strictest of every matching PortForwardPolicy, or the
 * defaults (8h, Loopback only, reason optional, 10 sessions) where no policy says otherwise.
 * {@code allowedPorts} empty means every port.
 */
public record EffectivePolicy(Duration maxTtl, Set<BindScope> allowedBindScopes, Set<Integer> allowedPorts,
                              boolean requireReason, int maxSessions, boolean allowAnySource) {

    public static final EffectivePolicy DEFAULTS =
            new EffectivePolicy(Duration.ofHours(8), Set.of(BindScope.Loopback), Set.of(), false, 10, false);
}
