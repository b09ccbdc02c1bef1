package dev.porthole.e2e.podrunner;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeAddressBuilder;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.NodeConditionBuilder;
import io.fabric8.kubernetes.api.model.NodeStatus;
import io.fabric8.kubernetes.api.model.NodeStatusBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Instant;
import java.util.Map;

/**
 * The runner's Node: created (or taken over, when one of that name is left from an earlier run) with a
 * Ready condition, the host address as InternalIP, and capacity; deleted again on close. There is no
 * node lifecycle controller in the local control plane, so no heartbeats are needed.
 */
final class NodeRegistration {
    private final KubernetesClient client;
    private final String nodeName;

    NodeRegistration(KubernetesClient client, String nodeName) {
        this.client = client;
        this.nodeName = nodeName;
    }

    Node register(String hostAddress, boolean isolated) {
        Node node = new NodeBuilder().withNewMetadata().withName(nodeName)
                .withLabels(Map.of("kubernetes.io/hostname", nodeName, "kubernetes.io/os", "linux",
                        "porthole.dev/local-pod-runner", "true",
                        "porthole.dev/pod-network", isolated ? "namespaces" : "host-loopback"))
                .endMetadata().build();
        client.nodes().resource(node).forceConflicts().serverSideApply();
        String now = Instant.now().toString();
        Map<String, Quantity> capacity = Map.of("cpu", new Quantity("4"), "memory", new Quantity("8Gi"),
                "pods", new Quantity("110"));
        NodeStatus status = new NodeStatusBuilder()
                .withConditions(new NodeConditionBuilder().withType("Ready").withStatus("True").withReason("KubeletReady")
                        .withMessage("local pod runner is posting ready status").withLastHeartbeatTime(now)
                        .withLastTransitionTime(now).build())
                .withAddresses(new NodeAddressBuilder().withType("InternalIP").withAddress(hostAddress).build(),
                        new NodeAddressBuilder().withType("Hostname").withAddress(nodeName).build())
                .withCapacity(capacity)
                .withAllocatable(capacity)
                .withNewNodeInfo().withOperatingSystem("linux").withArchitecture("amd64")
                .withKubeletVersion("porthole-local-pod-runner").withContainerRuntimeVersion("porthole-local://1")
                .withMachineID("").withSystemUUID("").withBootID("").withKernelVersion(System.getProperty("os.version"))
                .withOsImage("local").withKubeProxyVersion("").endNodeInfo()
                .build();
        return client.nodes().withName(nodeName).editStatus(n -> new NodeBuilder(n).withStatus(status).build());
    }

    void deregister() {
        client.nodes().withName(nodeName).delete();
    }
}
