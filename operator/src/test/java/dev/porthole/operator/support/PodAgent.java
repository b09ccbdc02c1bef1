package dev.porthole.operator.support;

import dev.porthole.sidecar.Agent;
import dev.porthole.sidecar.AgentSettings;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EphemeralContainer;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;

/**
 * Starts the real agent for the ephemeral container the operator injected, with that container's
 * environment resolved the way a kubelet would (values and Secret references): what the operator
 * wrote is exactly what the agent gets.
 */
public final class PodAgent {
    private PodAgent() {
    }

    public static Agent start(KubernetesClient admin, String namespace, String podName) {
        Pod pod = admin.pods().inNamespace(namespace).withName(podName).get();
        EphemeralContainer container = pod.getSpec().getEphemeralContainers().get(0);
        Map<String, String> env = new HashMap<>();
        for (EnvVar v : container.getEnv()) {
            if (v.getValueFrom() != null && v.getValueFrom().getSecretKeyRef() != null) {
                Secret secret = admin.secrets().inNamespace(namespace).withName(v.getValueFrom().getSecretKeyRef().getName()).get();
                env.put(v.getName(), new String(Base64.getDecoder().decode(
                        secret.getData().get(v.getValueFrom().getSecretKeyRef().getKey())), StandardCharsets.UTF_8));
            } else {
                env.put(v.getName(), v.getValue());
            }
        }
        return new Agent(AgentSettings.read(env, new String[0]), Clock.systemUTC()).start();
    }
}
