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

    public static String containerName(PortForward pf) {
        return "porthole-agent-" + pf.getMetadata().getUid().substring(0, 8);
    }

    /** Whether {@code pod} already runs this forward's agent (so it is never injected twice). */
    public static boolean isInjected(Pod pod, PortForward pf) {
        return pod.getSpec().getEphemeralContainers() != null && pod.getSpec().getEphemeralContainers().stream()
                .anyMatch(c -> containerName(pf).equals(c.getName()));
    }

    /** Injects the agent unless it is already there; returns whether it injected now. */
    public boolean ensureInjected(PortForward pf, ResolvedTarget target, Instant deadline) {
        if (isInjected(target.pod(), pf)) {
            return false;
        }
        EphemeralContainer agent = agentContainer(pf, target, deadline);
        client.pods().inNamespace(pf.getMetadata().getNamespace()).withName(target.podName()).ephemeralContainers()
                .edit(p -> isInjected(p, pf) ? p
                        : new PodBuilder(p).editSpec().addToEphemeralContainers(agent).endSpec().build());
        return true;
    }

    EphemeralContainer agentContainer(PortForward pf, ResolvedTarget target, Instant deadline) {
        List<EnvVar> env = new ArrayList<>();
        env.add(new EnvVar("PORTHOLE_RELAY_ADDRESS", relay.agentAddress(), null));
        env.add(new EnvVar("PORTHOLE_FORWARD", pf.qualifiedName(), null));
        env.add(new EnvVarBuilder().withName("PORTHOLE_AGENT_TOKEN").withNewValueFrom().withNewSecretKeyRef()
                .withName(AgentTokenSecret.nameFor(pf)).withKey(AgentTokenSecret.TOKEN_KEY).endSecretKeyRef()
                .endValueFrom().build());
        env.add(new EnvVar("PORTHOLE_CA_PEM", relay.caPem(), null));
        env.add(new EnvVar("PORTHOLE_TARGET_HOST", "127.0.0.1", null));
        env.add(new EnvVar("PORTHOLE_TARGET_PORT", Integer.toString(target.port()), null));
        env.add(new EnvVar("PORTHOLE_DEADLINE", deadline.toString(), null));
        return new EphemeralContainerBuilder()
                .withName(containerName(pf))
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
}
