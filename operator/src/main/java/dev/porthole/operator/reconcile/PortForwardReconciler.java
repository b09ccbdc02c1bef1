package dev.porthole.operator.reconcile;

import dev.porthole.api.v1alpha1.AgentStatus;
import dev.porthole.api.v1alpha1.Phase;
import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.api.v1alpha1.PortForwardPolicy;
import dev.porthole.api.v1alpha1.PortForwardStatus;
import dev.porthole.api.v1alpha1.RelayEndpoint;
import dev.porthole.api.v1alpha1.SessionStats;
import dev.porthole.operator.RelayEndpoints;
import dev.porthole.operator.relay.ForwardActivity;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import dev.porthole.operator.RelayControl;
import dev.porthole.operator.audit.AuditReason;
import dev.porthole.operator.audit.AuditRecorder;
import dev.porthole.operator.policy.EffectivePolicy;
import dev.porthole.operator.policy.PolicyEvaluator;
import dev.porthole.operator.status.Conditions;
import dev.porthole.operator.authz.CreatorAuthorization;
import dev.porthole.operator.authz.CreatorVerification;
import dev.porthole.operator.authz.DefaultExclusions;
import dev.porthole.operator.time.Expiry;
import dev.porthole.protocol.EndReason;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.MaxReconciliationInterval;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.Workflow;
import io.javaoperatorsdk.operator.api.reconciler.dependent.Dependent;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The life of a PortForward: policy → expiry → target → agent token → agent → Active, and at
 * {@code expiresAt} the Expired record and deletion. Every decision is derived from the resource and
 * the cluster (never from memory), so a restarted operator continues where it stopped and expires
 * overdue forwards at once.
 */
@Workflow(explicitInvocation = true, dependents = @Dependent(type = AgentTokenSecret.class))
@ControllerConfiguration(name = "portforward",
        maxReconciliationInterval = @MaxReconciliationInterval(interval = 60, timeUnit = TimeUnit.SECONDS))
public class PortForwardReconciler implements Reconciler<PortForward>, Cleaner<PortForward> {
    private static final Logger log = LoggerFactory.getLogger(PortForwardReconciler.class);
    static final Duration RETRY_UNAVAILABLE_TARGET = Duration.ofSeconds(10);

    private final KubernetesClient client;
    private final Clock clock;
    private final AuditRecorder audit;
    private final TargetResolver targets;
    private final AgentInjector injector;
    private final RelayControl relay;
    private final RelayEndpoints endpoints;
    private final ForwardActivity activity;
    private final CreatorVerification creators;
    /** Forwards (by uid) whose creator was verified: a fact about their creation, so checked once per operator run. */
    private final Set<String> verifiedCreators = ConcurrentHashMap.newKeySet();
    private volatile InformerEventSource<Pod, PortForward> podCache;
    private volatile InformerEventSource<PortForwardPolicy, PortForward> policyCache;
    private final CreatorAuthorization authorization;
    private final DefaultExclusions exclusions;

    public PortForwardReconciler(KubernetesClient client, Clock clock, String agentImage, RelayEndpoints endpoints,
                                 AuditRecorder audit, RelayControl relay, ForwardActivity activity,
                                 DefaultExclusions exclusions) {
        this.client = client;
        this.clock = clock;
        this.audit = audit;
        this.relay = relay;
        this.endpoints = endpoints;
        this.activity = activity;
        this.targets = new TargetResolver(client, new TargetResolver.PodLookup() {
            @Override
            public Optional<Pod> byName(String namespace, String name) {
                return podCache == null ? Optional.empty() : podCache.get(new ResourceID(name, namespace));
            }

            @Override
            public List<Pod> bySelector(String namespace, Map<String, String> selector) {
                return podCache == null ? List.of() : podCache.list(namespace, pod -> pod.getMetadata().getLabels() != null
                        && pod.getMetadata().getLabels().entrySet().containsAll(selector.entrySet())).toList();
            }
        });
        this.injector = new AgentInjector(client, agentImage, endpoints);
        this.creators = CreatorVerification.from(client);
        this.authorization = new CreatorAuthorization(client);
        this.exclusions = exclusions;
    }

    @Override
    public List<EventSource<?, PortForward>> prepareEventSources(EventSourceContext<PortForward> context) {
        // A pod change matters to the forwards that target it, by name, by selector or through a service.
        var pods = new InformerEventSource<>(InformerEventSourceConfiguration.from(Pod.class, PortForward.class)
                .withName("target-pods")
                .withSecondaryToPrimaryMapper((Pod pod) -> context.getPrimaryCache()
                        .list(pod.getMetadata().getNamespace())
                        .filter(pf -> mayTarget(pf, pod))
                        .map(ResourceID::fromResource)
                        .collect(Collectors.toSet()))
                .build(), context);
        // A policy change matters at once to every forward in the namespaces it covers (all when it names none):
        // a tightened policy rejects a forward now, not at its next scheduled reconcile. A forward not accepted yet
        // is checked against the policies listed from the API server, so one created together with a policy never
        // misses it; after that the cache serves, and its watch brings every change.
        var policies = new InformerEventSource<>(InformerEventSourceConfiguration
                .from(PortForwardPolicy.class, PortForward.class)
                .withName("policies")
                .withSecondaryToPrimaryMapper((PortForwardPolicy policy) -> context.getPrimaryCache()
                        .list(pf -> coveredBy(policy, pf))
                        .map(ResourceID::fromResource)
                        .collect(Collectors.toSet()))
                .build(), context);
        podCache = pods;
        policyCache = policies;
        // The relay reports agents and sessions; each report (coalesced) reconciles that forward's status.
        var relayReports = new SimpleInboundEventSource<PortForward>("relay-activity");
        activity.onChange(forward -> {
            int slash = forward.indexOf('/');
            relayReports.propagateEvent(new ResourceID(forward.substring(slash + 1), forward.substring(0, slash)));
        });
        return List.of(pods, policies, relayReports);
    }

    static boolean coveredBy(PortForwardPolicy policy, PortForward pf) {
        var namespaces = policy.getSpec() == null ? null : policy.getSpec().getNamespaces();
        return namespaces == null || namespaces.isEmpty() || namespaces.contains(pf.getMetadata().getNamespace());
    }

    static boolean mayTarget(PortForward pf, Pod pod) {
        var t = pf.getSpec() == null ? null : pf.getSpec().getTarget();
        if (t == null) {
            return false;
        }
        String name = pod.getMetadata().getName();
        Map<String, String> labels = pod.getMetadata().getLabels() == null ? Map.of() : pod.getMetadata().getLabels();
        boolean agentHere = pf.getStatus() != null && pf.getStatus().getAgent() != null
                && name.equals(pf.getStatus().getAgent().getPod());
        return agentHere || name.equals(t.getPod()) || t.getService() != null
                || (t.getSelector() != null && labels.entrySet().containsAll(t.getSelector().entrySet()));
    }

    @Override
    public UpdateControl<PortForward> reconcile(PortForward pf, Context<PortForward> context) {
        Instant now = clock.instant();
        PortForwardStatus status = pf.getStatus() == null ? new PortForwardStatus() : pf.getStatus();
        pf.setStatus(status);
        Instant expiresAt = Expiry.of(pf);
        if (!now.isBefore(expiresAt)) {
            expire(pf, expiresAt);
            return UpdateControl.noUpdate();
        }
        status.setExpiresAt(expiresAt.toString());
        status.setObservedGeneration(pf.getMetadata().getGeneration());
        Duration remaining = Duration.between(now, expiresAt);

        String ns = pf.getMetadata().getNamespace();
        EffectivePolicy policy = PolicyEvaluator.effective(ns, isPolicyCompliant(status) ? cachedPolicies() : policies());
        List<String> violations = PolicyEvaluator.violations(pf.getSpec(), numericPort(pf), policy);
        if (!violations.isEmpty()) {
            return reject(pf, violations, now, remaining);
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
            return refuseCreator(pf, refusal, refusals, now, remaining);
        }
        ResolvedTarget target;
        try {
            target = targets.resolve(pf);
        } catch (TargetUnavailableException e) {
            if (!refusals.isEmpty()) {
                return refuseCreator(pf, refusal, refusals, now, remaining);
            }
            return fail(pf, e.getMessage(), now, remaining);
        }
        refusals.addAll(exclusions.forPod(target.pod(), policy));
        authorization.refusal(pf.getSpec().getRequestedBy(), ns, target.podName()).ifPresent(refusals::add);
        if (!refusals.isEmpty()) {
            return refuseCreator(pf, refusal, refusals, now, remaining);
        }
        setCondition(pf, Conditions.CREATOR_AUTHORIZED, true, "Authorized", pf.getSpec().getRequestedBy().getUser()
                + " may port-forward to pod " + target.podName(), now);
        violations = PolicyEvaluator.violations(pf.getSpec(), target.port(), policy);
        if (!violations.isEmpty()) {
            return reject(pf, violations, now, remaining);
        }
        AgentLifecycle.Plan agent = AgentLifecycle.plan(target.pod(), pf);
        if (agent instanceof AgentLifecycle.GiveUp gaveUp) {
            return fail(pf, AuditReason.AgentFailed, gaveUp.why() + "; delete and re-apply the forward to try again",
                    now, remaining);
        }
        long liveAgents = AgentCapacity.liveAgents(target.pod());
        if (!(agent instanceof AgentLifecycle.Keep) && liveAgents >= policy.maxAgentsPerPod()) {
            return fail(pf, AuditReason.AgentLimitReached, "pod " + target.podName() + " already runs "
                    + liveAgents + " live Porthole agents, the most a pod may hold ("
                    + policy.maxAgentsPerPod() + "); waiting for one to exit at its forward's expiry", now, remaining);
        }
        boolean firstAcceptance = !isPolicyCompliant(status) && !isPolicyCompliant(liveStatus(pf));
        setCondition(pf, Conditions.POLICY_COMPLIANT, true, "Compliant", "forward complies with policy", now);
        if (firstAcceptance) {
            audit.record(pf, AuditReason.Accepted, "forward accepted until " + expiresAt,
                    Map.of("expiresAt", expiresAt.toString(), "bindScope", pf.getSpec().effectiveBindScope().name()));
        }

        context.managedWorkflowAndDependentResourceContext().reconcileManagedWorkflow();
        if (!(agent instanceof AgentLifecycle.Keep) && injector.inject(pf, target, agent.container(), expiresAt)) {
            if (agent instanceof AgentLifecycle.Replace replaced) {
                audit.record(pf, AuditReason.AgentReplaced, replaced.why() + "; injected " + replaced.container()
                                + " (replacement " + replaced.replacement() + " of " + AgentLifecycle.MAX_REPLACEMENTS + ")",
                        Map.of("pod", target.podName(), "container", replaced.container(), "ended", replaced.ended()));
            } else {
                audit.record(pf, AuditReason.AgentInjected, "agent injected into pod " + target.podName(),
                        Map.of("pod", target.podName(), "container", agent.container(), "targetPort", target.port()));
            }
        }
        AgentStatus previous = status.getAgent();
        boolean sameAgent = previous != null && target.podName().equals(previous.getPod())
                && agent.container().equals(previous.getContainer());
        ForwardActivity.Snapshot seen = activity.of(pf.qualifiedName());
        String connectedAt = seen.agentConnected() && seen.agentConnectedAt() != null ? seen.agentConnectedAt().toString()
                : sameAgent ? previous.getConnectedAt() : null;
        status.setAgent(new AgentStatus(target.podName(), agent.container(), connectedAt));
        status.setTarget(target.describe());
        status.setPhase(Phase.Active);
        status.setMessage("forwarding to " + target.describe() + " until " + expiresAt);
        status.setRelay(new RelayEndpoint(endpoints.clientAddress(), endpoints.caPem()));
        status.setSessions(sessions(seen));
        setCondition(pf, Conditions.READY, true, "AgentInjected", "agent runs in pod " + target.podName(), now);
        if (seen.agentConnected()) {
            setCondition(pf, Conditions.AGENT_CONNECTED, true, "Connected",
                    "agent in pod " + target.podName() + " is connected to the relay", now);
        } else {
            setCondition(pf, Conditions.AGENT_CONNECTED, false, "WaitingForAgent",
                    "waiting for the agent in pod " + target.podName() + " to dial the relay", now);
        }
        log.debug("forward active forward={} target={} remaining={}", pf.qualifiedName(), target.describe(), remaining);
        return UpdateControl.patchStatus(pf).rescheduleAfter(remaining);
    }

    private UpdateControl<PortForward> reject(PortForward pf, List<String> violations, Instant now, Duration remaining) {
        PortForwardStatus status = pf.getStatus();
        String message = String.join("; ", violations);
        boolean news = isNews(status, Phase.Rejected, message) && isNews(liveStatus(pf), Phase.Rejected, message);
        status.setPhase(Phase.Rejected);
        status.setMessage(message);
        setCondition(pf, Conditions.POLICY_COMPLIANT, false, "PolicyViolation", message, now);
        setCondition(pf, Conditions.READY, false, "Rejected", message, now);
        if (news) {
            audit.record(pf, AuditReason.Rejected, "forward rejected: " + message);
            // A forward a tightened policy no longer allows must not stay usable through sessions opened before:
            // they are cut like a revocation (a forward rejected from the start has none).
            relay.closeForward(pf.qualifiedName(), EndReason.REJECTED, "rejected by policy: " + message);
        }
        // nothing is created for a rejected forward; it is cleaned up at its expiry like any other
        return UpdateControl.patchStatus(pf).rescheduleAfter(remaining);
    }

    /** {@code reason}: CreatorUnverified or CreatorNotAuthorized (which also covers the default exclusions). */
    private UpdateControl<PortForward> refuseCreator(PortForward pf, String reason, List<String> refusals, Instant now,
                                                     Duration remaining) {
        PortForwardStatus status = pf.getStatus();
        String message = String.join("; ", refusals);
        boolean news = isNews(status, Phase.Rejected, message) && isNews(liveStatus(pf), Phase.Rejected, message);
        status.setPhase(Phase.Rejected);
        status.setMessage(message);
        setCondition(pf, Conditions.CREATOR_AUTHORIZED, false, reason, message, now);
        setCondition(pf, Conditions.READY, false, reason, message, now);
        setCondition(pf, Conditions.AGENT_CONNECTED, false, reason, message, now);
        if (news) {
            audit.record(pf, AuditReason.Rejected, "forward rejected: " + message);
            // a creator whose right is gone must not keep an audience connected through sessions opened before
            relay.closeForward(pf.qualifiedName(), EndReason.REJECTED, "creator not authorized: " + message);
        }
        return UpdateControl.patchStatus(pf).rescheduleAfter(remaining);
    }

    private UpdateControl<PortForward> fail(PortForward pf, String message, Instant now, Duration remaining) {
        return fail(pf, AuditReason.TargetUnavailable, message, now, remaining);
    }

    private UpdateControl<PortForward> fail(PortForward pf, AuditReason reason, String message, Instant now, Duration remaining) {
        PortForwardStatus status = pf.getStatus();
        boolean news = isNews(status, Phase.Failed, message) && isNews(liveStatus(pf), Phase.Failed, message);
        status.setPhase(Phase.Failed);
        status.setMessage(message);
        setCondition(pf, Conditions.READY, false, reason.name(), message, now);
        setCondition(pf, Conditions.AGENT_CONNECTED, false, reason.name(), message, now);
        if (news) {
            audit.record(pf, reason, reason == AuditReason.TargetUnavailable ? "target unavailable: " + message : message);
        }
        Duration retry = remaining.compareTo(RETRY_UNAVAILABLE_TARGET) < 0 ? remaining : RETRY_UNAVAILABLE_TARGET;
        return UpdateControl.patchStatus(pf).rescheduleAfter(retry);
    }

    private void expire(PortForward pf, Instant expiresAt) {
        relay.closeForward(pf.qualifiedName(), EndReason.EXPIRED, "expired");
        // the cached copy may not show our own deletion yet: ask the API server, so Expired is written once
        PortForward live = client.resources(PortForward.class).inNamespace(pf.getMetadata().getNamespace())
                .withName(pf.getMetadata().getName()).get();
        if (live != null && live.getMetadata().getDeletionTimestamp() == null) {
            audit.record(pf, AuditReason.Expired, "forward expired at " + expiresAt + "; deleting it",
                    Map.of("expiresAt", expiresAt.toString()));
            client.resource(pf).withTimeout(0, TimeUnit.SECONDS).delete();
        }
    }

    @Override
    public DeleteControl cleanup(PortForward pf, Context<PortForward> context) {
        Instant expiresAt = Expiry.of(pf);
        if (!clock.instant().isBefore(expiresAt)) {
            relay.closeForward(pf.qualifiedName(), EndReason.EXPIRED, "expired");
        } else {
            relay.closeForward(pf.qualifiedName(), EndReason.REVOKED, "revoked");
            audit.record(pf, AuditReason.Revoked, "forward deleted before its expiry; sessions closed",
                    Map.of("expiresAt", expiresAt.toString()));
        }
        relay.forget(pf.qualifiedName(), pf.getMetadata().getUid());
        verifiedCreators.remove(pf.getMetadata().getUid());
        return DeleteControl.defaultDelete();
    }

    private static SessionStats sessions(ForwardActivity.Snapshot seen) {
        SessionStats stats = new SessionStats();
        stats.setActive(seen.active());
        stats.setTotal(seen.total());
        stats.setBytesIn(seen.bytesIn());
        stats.setBytesOut(seen.bytesOut());
        return stats;
    }

    private static boolean isPolicyCompliant(PortForwardStatus status) {
        return status != null && Conditions.find(status.getConditions(), Conditions.POLICY_COMPLIANT)
                .map(c -> "True".equals(c.getStatus())).orElse(false);
    }

    private static boolean isNews(PortForwardStatus status, Phase phase, String message) {
        return status == null || status.getPhase() != phase || !message.equals(status.getMessage());
    }

    /**
     * The status as the API server has it now. The informer's copy can lag behind our own last status
     * patch; audit records are written once per transition, so transitions are confirmed against this.
     */
    private PortForwardStatus liveStatus(PortForward pf) {
        PortForward live = client.resources(PortForward.class).inNamespace(pf.getMetadata().getNamespace())
                .withName(pf.getMetadata().getName()).get();
        return live == null ? null : live.getStatus();
    }

    private Integer numericPort(PortForward pf) {
        var port = pf.getSpec().getTarget().getPort();
        return port == null ? null : port.getIntVal();
    }

    private Set<PortForwardPolicy> policies() {
        return Set.copyOf(client.resources(PortForwardPolicy.class).list().getItems());
    }

    private Set<PortForwardPolicy> cachedPolicies() {
        return policyCache == null ? policies() : policyCache.list().collect(Collectors.toSet());
    }

    private void setCondition(PortForward pf, String type, boolean value, String reason, String message, Instant now) {
        pf.getStatus().setConditions(Conditions.set(pf.getStatus().getConditions(), type, value, reason, message,
                pf.getMetadata().getGeneration(), now));
    }
}
