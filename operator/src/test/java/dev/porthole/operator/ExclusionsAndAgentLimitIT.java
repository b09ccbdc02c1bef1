package dev.porthole.operator;

import static dev.porthole.operator.support.Forwards.toPod;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.porthole.api.v1alpha1.Exclusion;
import dev.porthole.api.v1alpha1.Phase;
import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.api.v1alpha1.PortForwardPolicy;
import dev.porthole.operator.support.Forwards;
import dev.porthole.operator.support.Policies;
import dev.porthole.operator.support.OperatorPerClass;
import dev.porthole.testcluster.Kubelet;
import dev.porthole.testcluster.LocalCluster;
import dev.porthole.testcluster.TestCluster;
import dev.porthole.testcluster.TestNamespace;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The default exclusions (kube-system, the operator's namespace, hostNetwork pods, Porthole's own pods),
 * each refused with its reason even to the cluster admin and allowed by a policy that names it; and the
 * bound on live agents per pod. On the real API server, with the operator under its own RBAC.
 */
@LocalCluster
class ExclusionsAndAgentLimitIT {
    @RegisterExtension
    static final OperatorPerClass operator = new OperatorPerClass();
    private KubernetesClient admin;

    @BeforeEach
    void clients(TestCluster cluster) {
        admin = cluster.admin();
    }

    @Test
    @DisplayName("kube-system is refused by default and allowed by a policy that lifts KubeSystem")
    void kubeSystem() {
        String pod = "etcd-probe-" + Long.toHexString(System.nanoTime());
        Kubelet.runningPod(admin, "kube-system", pod, Map.of(), "client", 2379);
        PortForwardPolicy lift = Policies.governing("lift-kube-system", "kube-system",
                s -> s.setLiftExclusions(List.of(Exclusion.KubeSystem)));
        try {
            // when
            admin.resource(toPod("kube-system", pod, pod, 2379, "10m")).create();

            // then
            PortForward refused = awaitPhase("kube-system", pod, Phase.Rejected);
            assertThat(refused.getStatus().getMessage()).startsWith("namespace kube-system is excluded by default")
                    .contains("must lift KubeSystem");
            assertThat(admin.pods().inNamespace("kube-system").withName(pod).get().getSpec().getEphemeralContainers()).isEmpty();

            // and when a policy names the exclusion
            admin.resource(lift).create();
            awaitPhase("kube-system", pod, Phase.Active);
        } finally {
            admin.resources(PortForward.class).inNamespace("kube-system").withName(pod).delete();
            Kubelet.deleteNow(admin, "kube-system", pod);
            admin.resource(lift).delete();
        }
    }

    @Test
    @DisplayName("the operator's own namespace and Porthole's own pods are refused by default")
    void portholeItself(TestNamespace ns) {
        String own = operator.get().namespace();
        Kubelet.runningPod(admin, own, "ca-holder", Map.of(), "x", 8443);
        Kubelet.runningPod(admin, ns.name(), "relay-0", Map.of("app.kubernetes.io/part-of", "porthole"), "relay", 7444);
        try {
            // when
            admin.resource(toPod(own, "ca", "ca-holder", 8443, "10m")).create();
            admin.resource(toPod(ns.name(), "relay", "relay-0", 7444, "10m")).create();

            // then
            assertThat(awaitPhase(own, "ca", Phase.Rejected).getStatus().getMessage())
                    .contains("namespace " + own + " is the Porthole operator's own").contains("lift OperatorNamespace");
            assertThat(awaitPhase(ns.name(), "relay", Phase.Rejected).getStatus().getMessage())
                    .isEqualTo("pod relay-0 is one of Porthole's own operator or relay pods; excluded by default, "
                            + "a PortForwardPolicy must lift PortholePods");
            await().untilAsserted(() -> assertThat(Forwards.events(admin, ns.name(), "relay")).anySatisfy(e -> {
                assertThat(e.getReason()).isEqualTo("Rejected");
                assertThat(e.getNote()).contains("one of Porthole's own");
            }));
        } finally {
            admin.resources(PortForward.class).inNamespace(own).withName("ca").delete();
            Kubelet.deleteNow(admin, own, "ca-holder");
        }
    }

    @Test
    @DisplayName("a hostNetwork pod is refused by default (its loopback is the node's) and allowed by a policy lifting HostNetwork")
    void hostNetwork(TestNamespace ns) {
        // given
        admin.resource(new PodBuilder().withNewMetadata().withName("node-agent").withNamespace(ns.name()).endMetadata()
                .withNewSpec().withNodeName(Kubelet.NODE).withHostNetwork(true).addNewContainer().withName("agent")
                .withImage("example/agent:1").endContainer().endSpec().build()).create();
        Kubelet.markReady(admin, ns.name(), "node-agent");
        PortForwardPolicy lift = Policies.governing("lift-host-" + ns.name(), ns.name(),
                s -> s.setLiftExclusions(List.of(Exclusion.HostNetwork)));
        try {
            // when
            admin.resource(toPod(ns.name(), "node", "node-agent", 10250, "10m")).create();

            // then
            assertThat(awaitPhase(ns.name(), "node", Phase.Rejected).getStatus().getMessage())
                    .contains("pod node-agent uses hostNetwork, so its 127.0.0.1 is the node's loopback");
            admin.resource(lift).create();
            awaitPhase(ns.name(), "node", Phase.Active);
        } finally {
            admin.resource(lift).delete();
        }
    }

    @Test
    @DisplayName("a pod holds at most the policy's number of live agents; one more waits as Failed until an agent exits")
    void agentsPerPodBounded(TestNamespace ns) {
        // given
        Kubelet.runningPod(admin, ns.name(), "db-0", Map.of(), "pg", 5432);
        PortForwardPolicy two = Policies.governing("agents-" + ns.name(), ns.name(), s -> s.setMaxAgentsPerPod(2));
        admin.resource(two).create();
        try {
            admin.resource(toPod(ns.name(), "one", "db-0", 5432, "10m")).create();
            PortForward first = awaitPhase(ns.name(), "one", Phase.Active);
            admin.resource(toPod(ns.name(), "two", "db-0", 5432, "10m")).create();
            awaitPhase(ns.name(), "two", Phase.Active);

            // when
            admin.resource(toPod(ns.name(), "three", "db-0", 5432, "10m")).create();

            // then
            PortForward third = awaitPhase(ns.name(), "three", Phase.Failed);
            assertThat(third.getStatus().getMessage()).isEqualTo("pod db-0 already runs 2 live Porthole agents, the most a pod "
                    + "may hold (2); waiting for one to exit at its forward's expiry");
            assertThat(third.getStatus().getConditions()).anySatisfy(c -> {
                assertThat(c.getType()).isEqualTo("Ready");
                assertThat(c.getReason()).isEqualTo("AgentLimitReached");
            });
            assertThat(pod(ns, "db-0").getSpec().getEphemeralContainers()).hasSize(2);
            await().untilAsserted(() -> assertThat(Forwards.eventReasons(admin, ns.name(), "three")).contains("AgentLimitReached"));

            // and when the first forward is revoked and its agent exits, the third forward gets its agent
            String firstAgent = pod(ns, "db-0").getSpec().getEphemeralContainers().get(0).getName();
            admin.resource(first).delete();
            await().until(() -> admin.resource(first).get() == null);
            admin.pods().inNamespace(ns.name()).withName("db-0").editStatus(p -> new PodBuilder(p).editStatus()
                    .addToEphemeralContainerStatuses(new ContainerStatusBuilder().withName(firstAgent).withImage("agent")
                            .withImageID("").withReady(false).withRestartCount(0)
                            .withNewState().withNewTerminated().withExitCode(0).withReason("Completed").endTerminated().endState()
                            .build()).endStatus().build());
            awaitPhase(ns.name(), "three", Phase.Active);
            assertThat(pod(ns, "db-0").getSpec().getEphemeralContainers()).hasSize(3);
            assertThat(first.getMetadata().getUid()).isNotNull();
        } finally {
            admin.resource(two).delete();
        }
    }

    @Test
    @DisplayName("without a policy a pod holds at most 4 live agents")
    void defaultAgentLimit(TestNamespace ns) {
        Kubelet.runningPod(admin, ns.name(), "db-0", Map.of(), "pg", 5432);
        for (int i = 1; i <= 4; i++) {
            admin.resource(toPod(ns.name(), "f" + i, "db-0", 5432, "10m")).create();
            awaitPhase(ns.name(), "f" + i, Phase.Active);
        }

        admin.resource(toPod(ns.name(), "f5", "db-0", 5432, "10m")).create();

        assertThat(awaitPhase(ns.name(), "f5", Phase.Failed).getStatus().getMessage())
                .startsWith("pod db-0 already runs 4 live Porthole agents, the most a pod may hold (4)");
        assertThat(pod(ns, "db-0").getSpec().getEphemeralContainers()).hasSize(4);
    }

    private Pod pod(TestNamespace ns, String name) {
        return admin.pods().inNamespace(ns.name()).withName(name).get();
    }

    private PortForward awaitPhase(String ns, String name, Phase phase) {
        return Forwards.awaitPhase(admin, ns, name, phase, Duration.ofSeconds(30));
    }
}
