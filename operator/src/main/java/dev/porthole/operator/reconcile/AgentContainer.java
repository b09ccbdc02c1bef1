package dev.porthole.operator.reconcile;

import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.operator.audit.AuditReason;
import dev.porthole.operator.audit.AuditRecorder;
import dev.porthole.operator.time.Expiry;
import io.fabric8.kubernetes.api.model.Pod;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.dependent.DependentResource;
import io.javaoperatorsdk.operator.api.reconciler.dependent.ReconcileResult;
import java.util.Map;
import java.util.Optional;

/**
 * The forward's agent as a dependent of the forward workflow: the ephemeral container the {@link AgentLifecycle} plan
 * of the pass's {@link Verdict.Active} asks for, in the target pod. It is never deleted (ephemeral containers cannot be
 * removed; the agent exits at its deadline), so it is not a {@code Deleter}. Its resource is the target pod, which the
 * forward's pod informer already holds.
 */
final class AgentContainer implements DependentResource<Pod, PortForward> {
    static final String NAME = "agent";

    private final AgentInjector injector;
    private final AuditRecorder audit;

    AgentContainer(AgentInjector injector, AuditRecorder audit) {
        this.injector = injector;
        this.audit = audit;
    }

    @Override
    public ReconcileResult<Pod> reconcile(PortForward pf, Context<PortForward> context) {
        Verdict.Active active = ForwardWorkflow.activeVerdict(context);
        AgentLifecycle.Plan agent = active.agent();
        ResolvedTarget target = active.target();
        // the injector decides on the live pod, so a cached pod that lags behind an earlier injection never yields a second agent
        if (agent instanceof AgentLifecycle.Keep || !injector.inject(pf, target, agent.container(), Expiry.of(pf))) {
            return ReconcileResult.noOperation(target.pod());
        }
        if (agent instanceof AgentLifecycle.Replace replaced) {
            audit.record(pf, AuditReason.AgentReplaced, replaced.why() + "; injected " + replaced.container()
                            + " (replacement " + replaced.replacement() + " of " + AgentLifecycle.MAX_REPLACEMENTS + ")",
                    Map.of("pod", target.podName(), "container", replaced.container(), "ended", replaced.ended()));
        } else {
            audit.record(pf, AuditReason.AgentInjected, "agent injected into pod " + target.podName(),
                    Map.of("pod", target.podName(), "container", agent.container(), "targetPort", target.port()));
        }
        return ReconcileResult.resourceCreated(target.pod());
    }

    @Override
    public Optional<Pod> getSecondaryResource(PortForward pf, Context<PortForward> context) {
        return ForwardWorkflow.verdict(context) instanceof Verdict.Active active ? Optional.of(active.target().pod())
                : Optional.empty();
    }

    @Override
    public Class<Pod> resourceType() {
        return Pod.class;
    }

    @Override
    public String name() {
        return NAME;
    }
}
