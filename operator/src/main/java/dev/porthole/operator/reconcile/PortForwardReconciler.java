package dev.porthole.operator.reconcile;

import dev.porthole.api.v1alpha1.Phase;
import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.api.v1alpha1.PortForwardPolicy;
import dev.porthole.api.v1alpha1.PortForwardStatus;
import dev.porthole.api.v1alpha1.RelayEndpoint;
import dev.porthole.operator.RelayControl;
import dev.porthole.operator.RelayEndpoints;
import dev.porthole.operator.access.ForwardRefs;
import dev.porthole.operator.audit.AuditReason;
import dev.porthole.operator.audit.AuditRecorder;
import dev.porthole.operator.authz.DefaultExclusions;
import dev.porthole.operator.relay.ForwardActivity;
import dev.porthole.operator.time.Expiry;
import dev.porthole.pki.CertificateAuthority;
import dev.porthole.protocol.EndReason;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.MaxReconciliationInterval;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The life of a PortForward. Each pass: the {@link ForwardJudge}'s verdict (policy, creator, target, agent), the
 * {@link ForwardWorkflow} (token Secret, then agent, only for an Active verdict), the whole status from
 * {@link StatusBuilder}, the audit records of the change, and the next wake-up; at {@code expiresAt} the Expired
 * record and deletion. Every decision is derived from the resource and the cluster (never from memory), so a restarted
 * operator continues where it stopped and expires overdue forwards at once.
 */
@ControllerConfiguration(name = "portforward",
        maxReconciliationInterval = @MaxReconciliationInterval(interval = 60, timeUnit = TimeUnit.SECONDS))
public class PortForwardReconciler implements Reconciler<PortForward>, Cleaner<PortForward> {
    private static final Logger log = LoggerFactory.getLogger(PortForwardReconciler.class);
    static final Duration RETRY_UNAVAILABLE_TARGET = Duration.ofSeconds(10);

    private final KubernetesClient client;
    private final Clock clock;
    private final AuditRecorder audit;
    private final RelayControl relay;
    private final RelayEndpoints endpoints;
    private final ForwardActivity activity;
    private final ForwardJudge judge;
    private final ForwardWorkflow workflow;
    private volatile InformerEventSource<Pod, PortForward> podCache;
    private volatile InformerEventSource<PortForwardPolicy, PortForward> policyCache;

    /** {@code ca} is the operator's CA, which issues each forward's agent certificate. */
    public PortForwardReconciler(KubernetesClient client, Clock clock, String agentImage, RelayEndpoints endpoints,
                                 AuditRecorder audit, RelayControl relay, ForwardActivity activity,
                                 DefaultExclusions exclusions, CertificateAuthority ca) {
        this.client = client;
        this.clock = clock;
        this.audit = audit;
        this.relay = relay;
        this.endpoints = endpoints;
        this.activity = activity;
        TargetResolver targets = new TargetResolver(client, new TargetResolver.PodLookup() {
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
        this.judge = new ForwardJudge(client, targets, () -> policyCache == null
                ? Set.copyOf(client.resources(PortForwardPolicy.class).list().getItems())
                : policyCache.list().collect(Collectors.toSet()), exclusions);
        this.workflow = new ForwardWorkflow(new AgentInjector(client, agentImage, endpoints), audit, activity, ca);
    }

    @Override
    public List<EventSource<?, PortForward>> prepareEventSources(EventSourceContext<PortForward> context) {
        // A pod change matters to the forwards that target it, by name, by selector or through a service.
        var pods = new InformerEventSource<>(InformerEventSourceConfiguration.from(Pod.class, PortForward.class)
                .withName("target-pods")
                .withOnUpdateFilter(PodChanges::matter)
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
        activity.onChange(forward -> relayReports.propagateEvent(new ResourceID(forward.name(), forward.namespace())));
        List<EventSource<?, PortForward>> sources = new ArrayList<>(workflow.eventSources(context));
        sources.addAll(List.of(pods, policies, relayReports));
        return sources;
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
        PortForwardStatus old = pf.getStatus() == null ? new PortForwardStatus() : pf.getStatus();
        Instant expiresAt = Expiry.of(pf);
        if (!now.isBefore(expiresAt)) {
            expire(pf, expiresAt);
            return UpdateControl.noUpdate();
        }

        Verdict verdict = judge.judge(pf, old, expiresAt, now);
        if (verdict instanceof Verdict.Active) {
            recordAcceptance(pf, old, expiresAt); // first, so the records read Accepted, then AgentInjected
        }
        verdict = workflow.run(pf, verdict, context);
        String tokenSha256 = verdict instanceof Verdict.Active ? workflow.agentTokenSha256(pf, context).orElse(null) : null;
        PortForwardStatus next = StatusBuilder.build(old, verdict, activity.of(ForwardRefs.of(pf)),
                new RelayEndpoint(endpoints.clientAddress(), endpoints.inClusterClientAddress(), endpoints.caPem()),
                expiresAt, pf.getMetadata().getGeneration(), now, tokenSha256);
        recordTransition(pf, old, next, verdict, expiresAt);
        boolean changed = !sameStatus(old, next);
        pf.setStatus(next);
        // measured now, not at the start of the pass: the SDK's timer starts when the pass returns, and a pass that
        // injects an agent takes tens of milliseconds that would otherwise delay the expiry
        Duration remaining = max(Duration.between(clock.instant(), expiresAt), Duration.ofMillis(1));
        log.debug("forward reconciled forward={} phase={} remaining={} statusChanged={}", ForwardRefs.of(pf),
                next.getPhase(), remaining, changed);
        // a pass that changes nothing writes nothing: the API server is asked only for real changes
        UpdateControl<PortForward> update = changed ? UpdateControl.patchStatus(pf) : UpdateControl.noUpdate();
        if (verdict instanceof Verdict.Unavailable) {
            return update.rescheduleAfter(remaining.compareTo(RETRY_UNAVAILABLE_TARGET) < 0 ? remaining : RETRY_UNAVAILABLE_TARGET);
        }
        // a rejected forward gets nothing; it is cleaned up at its expiry like any other
        return update.rescheduleAfter(remaining);
    }

    private static Duration max(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }

    private static boolean sameStatus(PortForwardStatus old, PortForwardStatus next) {
        return Serialization.jsonMapper().valueToTree(old).equals(Serialization.jsonMapper().valueToTree(next));
    }

    private void recordAcceptance(PortForward pf, PortForwardStatus old, Instant expiresAt) {
        if (!ForwardJudge.isPolicyCompliant(old) && !ForwardJudge.isPolicyCompliant(liveStatus(pf))) {
            audit.record(pf, AuditReason.Accepted, "forward accepted until " + expiresAt,
                    Map.of("expiresAt", expiresAt.toString(), "bindScope", pf.getSpec().effectiveBindScope().name()));
        }
    }

    /**
     * The audit records (and relay cuts) of the change from {@code old} to {@code next}: written once per transition.
     * The informer's copy can lag behind our own last status patch, so a transition seen in it is confirmed against
     * the API server's copy before it is recorded (one read, only when something seems to change).
     */
    private void recordTransition(PortForward pf, PortForwardStatus old, PortForwardStatus next, Verdict verdict,
                                  Instant expiresAt) {
        if (verdict instanceof Verdict.Active) {
            return; // its acceptance is recorded before its agent is provided
        }
        if (!isNews(old, next.getPhase(), next.getMessage()) || !isNews(liveStatus(pf), next.getPhase(), next.getMessage())) {
            return;
        }
        String message = next.getMessage();
        if (verdict instanceof Verdict.PolicyViolation) {
            audit.record(pf, AuditReason.Rejected, "forward rejected: " + message);
            // A forward a tightened policy no longer allows must not stay usable through sessions opened before:
            // they are cut (a forward rejected from the start has none).
            relay.closeForward(ForwardRefs.of(pf), EndReason.REJECTED, "rejected by policy: " + message);
        } else if (verdict instanceof Verdict.CreatorRefused) {
            audit.record(pf, AuditReason.Rejected, "forward rejected: " + message);
            // a creator whose right is gone must not keep an audience connected through sessions opened before
            relay.closeForward(ForwardRefs.of(pf), EndReason.REJECTED, "creator not authorized: " + message);
        } else if (verdict instanceof Verdict.Unavailable u) {
            audit.record(pf, u.reason(), u.reason() == AuditReason.TargetUnavailable ? "target unavailable: " + message : message);
        }
    }

    private void expire(PortForward pf, Instant expiresAt) {
        relay.closeForward(ForwardRefs.of(pf), EndReason.EXPIRED, "expired");
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
            relay.closeForward(ForwardRefs.of(pf), EndReason.EXPIRED, "expired");
        } else {
            relay.closeForward(ForwardRefs.of(pf), EndReason.REVOKED, "revoked");
            audit.record(pf, AuditReason.Revoked, "forward deleted before its expiry; sessions closed",
                    Map.of("expiresAt", expiresAt.toString()));
        }
        relay.forget(ForwardRefs.of(pf), pf.getMetadata().getUid());
        judge.forget(pf);
        return DeleteControl.defaultDelete();
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
}
