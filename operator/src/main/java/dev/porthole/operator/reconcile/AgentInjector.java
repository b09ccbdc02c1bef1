package dev.porthole.operator.reconcile;

import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.operator.RelayEndpoints;
import io.fabric8.kubernetes.api.model.EphemeralContainer;
import io.fabric8.kubernetes.api.model.EphemeralContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Adds the tunnel agent to the target pod as an ephemeral container through the
 * {@code pods/ephemeralcontainers} subresource: it shares the pod's network namespace, so it reaches
 * ports bound to 127.0.0.1, and the pod is not restarted. Ephemeral containers cannot be removed, so
 * the agent carries its own deadline and exits at it. (The API server refuses resource requests on
 * ephemeral containers: the agent lives in the pod's spare capacity, and is sized to.)
 */
public class AgentInjector {
    public static final int AGENT_UID = 65532;

    private final KubernetesClient client;
    private final String agentImage;
    private final RelayEndpoints relay;

    public AgentInjector(KubernetesClient client, String agentImage, RelayEndpoints relay) {
        this.client = client;
        this.agentImage = agentImage;
        this.relay = relay;
    }

    /** The first agent's container name of a forward (see {@link AgentLifecycle} for its replacements'). */
    public static String containerName(PortForward pf) {
        return AgentLifecycle.containerName(pf, 0);
    }

    /** Whether {@code pod} holds the container {@code name} already (so no agent is ever injected twice). */
    static boolean holds(Pod pod, String name) {
        return pod.getSpec().getEphemeralContainers() != null && pod.getSpec().getEphemeralContainers().stream()
                .anyMatch(c -> name.equals(c.getName()));
    }

    /**
     * Injects the agent container {@code name} unless the pod holds it already; the edit decides on the live pod, so
     * a cached pod that lags behind an earlier injection never yields a second one. Returns whether it injected.
     */
    public boolean inject(PortForward pf, ResolvedTarget target, String name, Instant deadline) {
        EphemeralContainer agent = agentContainer(pf, target, name, deadline);
        AtomicBoolean added = new AtomicBoolean();
        client.pods().inNamespace(pf.getMetadata().getNamespace()).withName(target.podName()).ephemeralContainers()
                .edit(p -> {
                    added.set(!holds(p, name));
                    return added.get() ? new PodBuilder(p).editSpec().addToEphemeralContainers(agent).endSpec().build() : p;
                });
        return added.get();
    }

    EphemeralContainer agentContainer(PortForward pf, ResolvedTarget target, String name, Instant deadline) {
        List<EnvVar> env = new ArrayList<>();
        env.add(new EnvVar("PORTHOLE_RELAY_ADDRESS", relay.agentAddress(), null));
        env.add(new EnvVar("PORTHOLE_FORWARD", pf.qualifiedName(), null));
        env.add(fromSecret("PORTHOLE_AGENT_TOKEN", pf, AgentTokenSecret.TOKEN_KEY));
        env.add(new EnvVar("PORTHOLE_CA_PEM", relay.caPem(), null));
        // the agent's key stays in the Secret: the pod spec, which more can read than the Secret, only refers to it
        env.add(fromSecret("PORTHOLE_AGENT_CERT_PEM", pf, AgentTokenSecret.CERT_KEY));
        env.add(fromSecret("PORTHOLE_AGENT_KEY_PEM", pf, AgentTokenSecret.KEY_KEY));
        env.add(new EnvVar("PORTHOLE_TARGET_HOST", "127.0.0.1", null));
        env.add(new EnvVar("PORTHOLE_TARGET_PORT", Integer.toString(target.port()), null));
        env.add(new EnvVar("PORTHOLE_DEADLINE", deadline.toString(), null));
        return new EphemeralContainerBuilder()
                .withName(name)
                .withImage(agentImage)
                .withImagePullPolicy("IfNotPresent")
                .withEnv(env)
                .withNewSecurityContext()
                .withRunAsNonRoot(true)
                .withRunAsUser((long) AGENT_UID)
                .withRunAsGroup((long) AGENT_UID)
                .withAllowPrivilegeEscalation(false)
                .withPrivileged(false)
                .withReadOnlyRootFilesystem(true)
                .withNewCapabilities().withDrop("ALL").endCapabilities()
                .withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile()
                .endSecurityContext()
                .withTerminationMessagePolicy("FallbackToLogsOnError")
                .build();
    }

    /** The variable {@code name} set from {@code key} of the forward's agent Secret. */
    private static EnvVar fromSecret(String name, PortForward pf, String key) {
        return new EnvVarBuilder().withName(name).withNewValueFrom().withNewSecretKeyRef()
                .withName(AgentTokenSecret.nameFor(pf)).withKey(key).endSecretKeyRef()
                .endValueFrom().build();
    }
}
