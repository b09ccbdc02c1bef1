package dev.porthole.operator.policy;

import dev.porthole.api.v1alpha1.BindScope;
import dev.porthole.api.v1alpha1.Exclusion;
import dev.porthole.api.v1alpha1.PortForwardPolicy;
import dev.porthole.api.v1alpha1.PortForwardPolicySpec;
import dev.porthole.api.v1alpha1.PortForwardSpec;
import dev.porthole.operator.time.GoDuration;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Merges the policies that govern a namespace and lists, in plain words, how a forward breaks them. */
public final class PolicyEvaluator {

    private PolicyEvaluator() {
    }

    public static EffectivePolicy effective(String namespace, Collection<PortForwardPolicy> policies) {
        List<PortForwardPolicySpec> matching = policies.stream()
                .map(PortForwardPolicy::getSpec)
                .filter(s -> s != null && (s.getNamespaces() == null || s.getNamespaces().isEmpty()
                        || s.getNamespaces().contains(namespace)))
                .toList();
        EffectivePolicy d = EffectivePolicy.DEFAULTS;
        if (matching.isEmpty()) {
            return d;
        }
        Duration maxTtl = null;
        Set<BindScope> scopes = null;
        Set<Integer> ports = null;
        boolean requireReason = false;
        Integer maxSessions = null;
        boolean allowAnySource = true;
        Set<Exclusion> lifted = null;
        Integer maxAgents = null;
        for (PortForwardPolicySpec s : matching) {
            Duration ttl = s.getMaxTtl() == null ? d.maxTtl() : GoDuration.parse(s.getMaxTtl());
            maxTtl = maxTtl == null || ttl.compareTo(maxTtl) < 0 ? ttl : maxTtl;
            Set<BindScope> own = s.getAllowedBindScopes() == null || s.getAllowedBindScopes().isEmpty()
                    ? d.allowedBindScopes() : EnumSet.copyOf(s.getAllowedBindScopes());
            scopes = scopes == null ? new HashSet<>(own) : intersect(scopes, own);
            if (s.getAllowedPorts() != null && !s.getAllowedPorts().isEmpty()) {
                ports = ports == null ? new HashSet<>(s.getAllowedPorts()) : intersect(ports, new HashSet<>(s.getAllowedPorts()));
            }
            requireReason |= Boolean.TRUE.equals(s.getRequireReason());
            int sessions = s.getMaxSessions() == null ? d.maxSessions() : s.getMaxSessions();
            maxSessions = maxSessions == null ? sessions : Math.min(maxSessions, sessions);
            allowAnySource &= Boolean.TRUE.equals(s.getAllowAnySource());
            // an exclusion protects the cluster's own machinery: it is lifted only if every governing policy lifts it
            Set<Exclusion> lifts = s.getLiftExclusions() == null ? Set.of() : Set.copyOf(s.getLiftExclusions());
            lifted = lifted == null ? new HashSet<>(lifts) : intersect(lifted, lifts);
            if (s.getMaxAgentsPerPod() != null) {
                maxAgents = maxAgents == null ? s.getMaxAgentsPerPod() : Math.min(maxAgents, s.getMaxAgentsPerPod());
            }
        }
        return new EffectivePolicy(maxTtl, Set.copyOf(scopes), ports == null ? Set.of() : Set.copyOf(ports),
                requireReason, maxSessions, allowAnySource, lifted,
                maxAgents == null ? d.maxAgentsPerPod() : maxAgents);
    }

    /**
     * Every way {@code spec} breaks {@code policy}; empty when it complies. {@code port} is the resolved
     * numeric target port, or null when it is not known yet (a named port before the pod is found).
     */
    public static List<String> violations(PortForwardSpec spec, Integer port, EffectivePolicy policy) {
        List<String> out = new ArrayList<>();
        Duration ttl = GoDuration.parse(spec.getTtl());
        if (ttl.compareTo(policy.maxTtl()) > 0) {
            out.add("ttl " + spec.getTtl() + " exceeds the policy maximum of " + GoDuration.format(policy.maxTtl()));
        }
        BindScope scope = spec.effectiveBindScope();
        if (!policy.allowedBindScopes().contains(scope)) {
            out.add("bindScope " + scope + " is not allowed by policy (allowed: " + sorted(policy.allowedBindScopes()) + ")");
        }
        if (port != null && !policy.allowedPorts().isEmpty() && !policy.allowedPorts().contains(port)) {
            out.add("target port " + port + " is not allowed by policy (allowed: " + sorted(policy.allowedPorts()) + ")");
        }
        if (policy.requireReason() && (spec.getReason() == null || spec.getReason().isBlank())) {
            out.add("policy requires spec.reason (for example an incident id)");
        }
        if (spec.getMaxSessions() != null && spec.getMaxSessions() > policy.maxSessions()) {
            out.add("maxSessions " + spec.getMaxSessions() + " exceeds the policy maximum of " + policy.maxSessions());
        }
        if (!policy.allowAnySource() && spec.getSourceRanges() != null) {
            AddressCoverage.whole(spec.getSourceRanges()).ifPresent(w -> out.add(anySource(w)));
        }
        return out;
    }

    /** A single /0 is named alone, as before; otherwise every range that takes part in covering a whole family. */
    private static String anySource(AddressCoverage.Whole whole) {
        return whole.ranges().stream().filter(r -> r.strip().endsWith("/0")).findFirst()
                .map(r -> "sourceRanges " + r + " opens the forward to every address; policy does not allow it")
                .orElseGet(() -> "sourceRanges " + String.join(", ", whole.ranges())
                        + (whole.ranges().size() == 1 ? " covers " : " together cover ") + whole.words()
                        + "; policy does not allow it");
    }

    private static <T> Set<T> intersect(Set<T> a, Set<T> b) {
        Set<T> r = new HashSet<>(a);
        r.retainAll(b);
        return r;
    }

    private static <T extends Comparable<? super T>> List<T> sorted(Set<T> s) {
        return s.stream().sorted().toList();
    }
}
