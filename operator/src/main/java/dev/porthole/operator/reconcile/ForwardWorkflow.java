package dev.porthole.operator.reconcile;

import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.operator.access.ForwardRefs;
import dev.porthole.operator.audit.AuditReason;
import dev.porthole.operator.audit.AuditRecorder;
import dev.porthole.operator.relay.ForwardActivity;
import dev.porthole.pki.CertificateAuthority;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceUtils;
import io.javaoperatorsdk.operator.api.reconciler.dependent.DependentResource;
import io.javaoperatorsdk.operator.processing.dependent.workflow.Condition;
import io.javaoperatorsdk.operator.processing.dependent.workflow.Workflow;
import io.javaoperatorsdk.operator.processing.dependent.workflow.WorkflowBuilder;
import io.javaoperatorsdk.operator.processing.dependent.workflow.WorkflowReconcileResult;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a forward owns in the cluster, declared as a JOSDK workflow: the agent token Secret (token, agent certificate and
 * key), then the agent container that reads it ({@code dependsOn}). Both have the reconcile precondition "the pass's
 * verdict is Active" (policy compliant, creator authorized, target resolved, room for an agent); the agent's ready
 * postcondition is "its agent is connected to the relay". The verdict is decided before the workflow runs and handed
 * to its conditions and dependents through the pass's context.
 */
final class ForwardWorkflow {
    private static final String VERDICT = "porthole.dev/verdict";

    private final Workflow<PortForward> workflow;
    private final AgentTokenSecret token;

    /** {@code ca} issues each forward's agent certificate into its Secret. */
    ForwardWorkflow(AgentInjector injector, AuditRecorder audit, ForwardActivity activity, CertificateAuthority ca) {
        Condition<Object, PortForward> allowed = (dependent, pf, context) -> verdict(context) instanceof Verdict.Active;
        Condition<Object, PortForward> agentConnected = (dependent, pf, context) ->
                activity.of(ForwardRefs.of(pf)).agentConnected();
        token = AgentTokenSecret.labelSelected(ca);
        workflow = new WorkflowBuilder<PortForward>()
                .addDependentResourceAndConfigure(token).withReconcilePrecondition(allowed)
                .addDependentResourceAndConfigure(new AgentContainer(injector, audit)).dependsOn(token)
                .withReconcilePrecondition(allowed)
                .withReadyPostcondition(agentConnected)
                .withThrowExceptionFurther(false)
                .build();
    }

    /** The event sources of the workflow's dependents (the label-selected Secret informer). */
    List<EventSource<?, PortForward>> eventSources(EventSourceContext<PortForward> context) {
        return EventSourceUtils.eventSourcesFromWorkflow(context, workflow);
    }

    /**
     * Reconciles what {@code verdict} allows and returns the pass's verdict: {@code verdict} itself, or Unavailable when
     * the API server refused a write in a way retrying cannot cure (forbidden, refused by admission, the pod gone).
     * Anything else is thrown for the SDK's retry.
     */
    Verdict run(PortForward pf, Verdict verdict, Context<PortForward> context) {
        context.managedWorkflowAndDependentResourceContext().put(VERDICT, verdict);
        WorkflowReconcileResult result = workflow.reconcile(pf, context);
        for (Map.Entry<DependentResource, Exception> failed : result.getErroredDependents().entrySet()) {
            String what = AgentContainer.NAME.equals(failed.getKey().name())
                    ? "adding the agent to pod " + ((Verdict.Active) verdict).target().podName()
                    : "creating the agent token Secret for " + ForwardRefs.of(pf);
            Optional<String> refusal = apiRefusal(failed.getValue()).flatMap(e -> ApiRefusal.explain(e, what));
            if (refusal.isEmpty()) {
                throw failed.getValue() instanceof RuntimeException e ? e : new IllegalStateException(what, failed.getValue());
            }
            return new Verdict.Unavailable(AuditReason.AgentInjectionFailed, refusal.get(), true);
        }
        return verdict;
    }

    /** The SHA-256 (hex) of the forward's agent token, from the Secret the workflow created or the cache holds. */
    Optional<String> agentTokenSha256(PortForward pf, Context<PortForward> context) {
        return token.getSecondaryResource(pf, context).map(AgentTokenSecret::tokenSha256);
    }

    static Verdict verdict(Context<PortForward> context) {
        return context.managedWorkflowAndDependentResourceContext().get(VERDICT, Verdict.class)
                .orElseThrow(() -> new IllegalStateException("the forward workflow ran without a verdict"));
    }

    static Verdict.Active activeVerdict(Context<PortForward> context) {
        return (Verdict.Active) verdict(context);
    }

    /** The API server's answer behind a dependent's failure (the SDK may wrap it). */
    private static Optional<KubernetesClientException> apiRefusal(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof KubernetesClientException k) {
                return Optional.of(k);
            }
        }
        return Optional.empty();
    }
}
