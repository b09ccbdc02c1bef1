package dev.porthole.testcluster;

import io.fabric8.kubernetes.api.model.ContainerPortBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Instant;
import java.util.Map;

/**
 * Plays the kubelet's part for tests and the demo (there is no kubelet here): binds a pod to a node and reports it Running and
 * Ready. The operator cannot tell the difference, and never calls this.
 */
public final class Kubelet {
    public static final String NODE = "porthole-test-node";

    private Kubelet() {
    }

    public static Pod runningPod(KubernetesClient admin, String ns, String name, Map<String, String> labels, String portName, int port) {
        admin.resource(new PodBuilder().withNewMetadata().withName(name).withNamespace(ns).withLabels(labels).endMetadata()
                .withNewSpec().withNodeName(NODE).withTerminationGracePeriodSeconds(0L)
                .addNewContainer().withName("app").withImage("example/app:1")
                .withPorts(new ContainerPortBuilder().withName(portName).withContainerPort(port).build())
                .endContainer().endSpec().build()).create();
        return markReady(admin, ns, name);
    }

    public static Pod markReady(KubernetesClient admin, String ns, String name) {
        String now = Instant.now().toString();
        return admin.pods().inNamespace(ns).withName(name).editStatus(p -> new PodBuilder(p).editOrNewStatus()
                .withPhase("Running")
                .withPodIP("127.0.0.1")
                .withConditions(new PodConditionBuilder().withType("Ready").withStatus("True").withLastTransitionTime(now).build())
                .endStatus().build());
    }

    public static Pod createPending(KubernetesClient admin, String ns, String name, Map<String, String> labels) {
        return admin.resource(new PodBuilder().withNewMetadata().withName(name).withNamespace(ns).withLabels(labels).endMetadata()
                .withNewSpec().withNodeName(NODE).addNewContainer().withName("app").withImage("example/app:1").endContainer()
                .endSpec().build()).create();
    }

    public static void deleteNow(KubernetesClient admin, String ns, String name) {
        admin.pods().inNamespace(ns).withName(name).withGracePeriod(0).delete();
    }
}
