package dev.porthole.e2e.podrunner;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.EphemeralContainerBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Pods, Secrets and agent containers as the operator and users create them. */
final class TestPods {
    static final String AGENT_IMAGE = dev.porthole.operator.OperatorSettings.DEFAULT_AGENT_IMAGE;
    static final String NODE = "porthole-e2e-node";

    private TestPods() {
    }

    /** A started runner for {@code namespace} only, with network namespaces and the agent image registered. */
    static LocalPodRunner namespacedRunner(KubernetesClient admin, String namespace) {
        return new LocalPodRunner(admin, NODE)
                .image(AGENT_IMAGE, ImageCommand.javaJar(agentJar(), "-Xmx48m"))
                .onlyNamespace(namespace)
                .network(NetworkMode.NAMESPACES)
                .start();
    }

    static Path agentJar() {
        String jar = System.getProperty("porthole.agent.jar");
        if (jar == null) {
            throw new IllegalStateException("system property porthole.agent.jar is not set (failsafe sets it to tunnel-sidecar/target/porthole-agent.jar)");
        }
        return Path.of(jar);
    }

    /** An unscheduled pod with one application container of an image the runner does not run. */
    static Pod createAppPod(KubernetesClient client, String namespace, String name) {
        return client.resource(new PodBuilder().withNewMetadata().withName(name).withNamespace(namespace)
                .withLabels(Map.of("app", name)).endMetadata()
                .withNewSpec().addNewContainer().withName("app").withImage("example/app:1").endContainer().endSpec()
                .build()).create();
    }

    static void createTokenSecret(KubernetesClient client, String namespace, String name, String token) {
        client.resource(new SecretBuilder().withNewMetadata().withName(name).withNamespace(namespace).endMetadata()
                .addToStringData("token", token).build()).create();
    }

    /** Adds the agent as an ephemeral container through the pods/ephemeralcontainers subresource, as the operator does. */
    static void injectAgent(KubernetesClient client, String namespace, String pod, String container, String tokenSecret,
                            TestRelay relay, String forward, int targetPort, Instant deadline) {
        List<EnvVar> env = List.of(
                new EnvVar("PORTHOLE_RELAY_ADDRESS", relay.agentAddress(), null),
                new EnvVar("PORTHOLE_FORWARD", forward, null),
                new EnvVarBuilder().withName("PORTHOLE_AGENT_TOKEN").withNewValueFrom().withNewSecretKeyRef()
                        .withName(tokenSecret).withKey("token").endSecretKeyRef().endValueFrom().build(),
                new EnvVar("PORTHOLE_CA_PEM", relay.caPem(), null),
                new EnvVar("PORTHOLE_TARGET_PORT", Integer.toString(targetPort), null),
                new EnvVar("PORTHOLE_DEADLINE", deadline.toString(), null));
        client.pods().inNamespace(namespace).withName(pod).ephemeralContainers().edit(p -> new PodBuilder(p).editSpec()
                .addToEphemeralContainers(new EphemeralContainerBuilder().withName(container).withImage(AGENT_IMAGE)
                        .withEnv(env).build())
                .endSpec().build());
    }

    static Optional<ContainerStatus> ephemeralStatus(KubernetesClient client, String namespace, String pod, String container) {
        Pod current = client.pods().inNamespace(namespace).withName(pod).get();
        if (current == null || current.getStatus() == null || current.getStatus().getEphemeralContainerStatuses() == null) {
            return Optional.empty();
        }
        return current.getStatus().getEphemeralContainerStatuses().stream().filter(s -> container.equals(s.getName())).findFirst();
    }

    static boolean hasCondition(Pod pod, String type) {
        return pod != null && pod.getStatus() != null && pod.getStatus().getConditions() != null
                && pod.getStatus().getConditions().stream().anyMatch(c -> type.equals(c.getType()) && "True".equals(c.getStatus()));
    }
}
