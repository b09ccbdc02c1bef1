package dev.porthole.operator.reconcile;

import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.api.v1alpha1.PortForwardPolicy;
import dev.porthole.api.v1alpha1.PortForwardStatus;
import dev.porthole.operator.audit.AuditReason;
import dev.porthole.operator.authz.CreatorAuthorization;
import dev.porthole.operator.authz.CreatorVerification;
import dev.porthole.operator.authz.DefaultExclusions;
import dev.porthole.operator.policy.EffectivePolicy;
import dev.porthole.operator.policy.PolicyEvaluator;
import dev.porthole.operator.status.Conditions;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Decides a live forward's {@link Verdict}, reading only caches (but for a forward not accepted yet, whose policies are
 * listed from the API server so one created together with a policy never misses it). Policy, then the creator, then
 * the target, then the agent: the first that refuses decides.
 */
final class ForwardJudge {
    private final KubernetesClient client;
    private final TargetResolver targets;
    private final Supplier<Set<PortForwardPolicy>> cachedPolicies;
    private final CreatorVerification creators;
    private final CreatorAuthorization authorization;
    private final DefaultExclusions exclusions;
    /** Forwards (by uid) whose creator was verified: a fact about their creation, so checked once per operator run. */
    private final Set<String> verifiedCreators = ConcurrentHashMap.newKeySet();

    ForwardJudge(KubernetesClient client, TargetResolver targets, Supplier<Set<PortForwardPolicy>> cachedPolicies,
                 DefaultExclusions exclusions) {
        this.client = client;
        this.targets = targets;
        this.cachedPolicies = cachedPolicies;
        this.creators = CreatorVerification.from(client);
        this.authorization = new CreatorAuthorization(client);
        this.exclusions = exclusions;
    }

    Verdict judge(PortForward pf, PortForwardStatus old, Instant expiresAt, Instant now) {
        String ns = pf.getMetadata().getNamespace();
        EffectivePolicy policy = PolicyEvaluator.effective(ns, isPolicyCompliant(old) ? cachedPolicies.get() : livePolicies());
        List<String> violations = PolicyEvaluator.violations(pf.getSpec(), numericPort(pf), policy);
        if (!violations.isEmpty()) {
            return new Verdict.PolicyViolation(String.join("; ", violations));
        }
        // Who created the forward, and may they reach this target themselves? Nothing is resolved or injected
        // for a forward whose creator is unverified, excluded or not allowed.
        List<String> refusals = new ArrayList<>();
        Optional<String> unverified = verifiedCreators.contains(pf.getMetadata().getUid()) ? Optional.empty()
                : creators.whyUnverified(pf);
        if (unverified.isEmpty()) {
            verifiedCreators.add(pf.getMetadata().getUid());
        }
        unverified.ifPresent(refusals::add);
        refusals.addAll(exclusions.forNamespace(ns, policy));
        String refusal = unverified.isPresent() ? "CreatorUnverified" : "CreatorNotAuthorized";
        if (pf.getSpec().getRequestedBy() == null) {
            return new Verdict.CreatorRefused(refusal, String.join("; ", refusals));
        }
        ResolvedTarget target;
        try {
            target = targets.resolve(pf);
        } catch (TargetUnavailableException e) {
            if (!refusals.isEmpty()) {
                return new Verdict.CreatorRefused(refusal, String.join("; ", refusals));
            }
            return new Verdict.Unavailable(AuditReason.TargetUnavailable, e.getMessage(), false);
        }
        refusals.addAll(exclusions.forPod(target.pod(), policy));
        authorization.refusal(pf.getSpec().getRequestedBy(), ns, target.podName()).ifPresent(refusals::add);
        if (!refusals.isEmpty()) {
            return new Verdict.CreatorRefused(refusal, String.join("; ", refusals));
        }
        violations = PolicyEvaluator.violations(pf.getSpec(), target.port(), policy);
        if (!violations.isEmpty()) {
            return new Verdict.PolicyViolation(String.join("; ", violations));
        }
        AgentLifecycle.Plan agent = AgentLifecycle.plan(target.pod(), pf, expiresAt, now);
        if (agent instanceof AgentLifecycle.GiveUp gaveUp) {
            return new Verdict.Unavailable(AuditReason.AgentFailed,
                    gaveUp.why() + "; delete and re-apply the forward to try again", true);
        }
        long liveAgents = AgentCapacity.liveAgents(target.pod());
        if (!(agent instanceof AgentLifecycle.Keep) && liveAgents >= policy.maxAgentsPerPod()) {
            return new Verdict.Unavailable(AuditReason.AgentLimitReached, "pod " + target.podName() + " already runs "
                    + liveAgents + " live Porthole agents, the most a pod may hold ("
                    + policy.maxAgentsPerPod() + "); waiting for one to exit at its forward's expiry", true);
        }
        return new Verdict.Active(target, agent, pf.getSpec().getRequestedBy().getUser());
    }

    /** The forward is gone: its creator's verification need not be remembered. */
    void forget(PortForward pf) {
        verifiedCreators.remove(pf.getMetadata().getUid());
    }

    static boolean isPolicyCompliant(PortForwardStatus status) {
        return status != null && Conditions.find(status.getConditions(), Conditions.POLICY_COMPLIANT)
                .map(c -> "True".equals(c.getStatus())).orElse(false);
    }

    private static Integer numericPort(PortForward pf) {
        var port = pf.getSpec().getTarget().getPort();
        return port == null ? null : port.getIntVal();
    }

    private Set<PortForwardPolicy> livePolicies() {
        return Set.copyOf(client.resources(PortForwardPolicy.class).list().getItems());
    }
}
