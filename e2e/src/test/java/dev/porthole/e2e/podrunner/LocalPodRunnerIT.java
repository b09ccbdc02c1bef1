package dev.porthole.e2e.podrunner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.porthole.testcluster.LocalCluster;
import dev.porthole.testcluster.TestCluster;
import dev.porthole.testcluster.TestNamespace;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.time.Instant;
import java.util.OptionalLong;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@LocalCluster
@DisplayName("The local pod runner plays the kubelet")
class LocalPodRunnerIT {
    private KubernetesClient admin;
    private String ns;
    private LocalPodRunner runner;

    @BeforeEach
    void startRunner(TestCluster cluster, TestNamespace namespace) {
        admin = cluster.admin();
        ns = namespace.name();
        runner = TestPods.namespacedRunner(admin, ns);
    }

    @AfterEach
    void closeRunner() {
        runner.close();
    }

    @Test
    @DisplayName("registers a Ready node whose internal address is the host end of the pod bridge")
    void registersNode() {
        // when the runner has started (before each)
        Node node = admin.nodes().withName(TestPods.NODE).get();

        // then
        assertThat(node.getStatus().getConditions()).anyMatch(c -> c.getType().equals("Ready") && c.getStatus().equals("True"));
        assertThat(node.getStatus().getAddresses()).anyMatch(a -> a.getType().equals("InternalIP") && a.getAddress().equals("10.244.0.1"));
        assertThat(runner.hostAddress()).isEqualTo("10.244.0.1");
    }

    @Test
    @DisplayName("binds an unscheduled pod, gives it its own network namespace and address, and reports it Running and Ready")
    void bindsAndRunsPod() {
        // given
        TestPods.createAppPod(admin, ns, "web-0");

        // when
        await().atMost(Duration.ofSeconds(30)).until(() -> TestPods.hasCondition(admin.pods().inNamespace(ns).withName("web-0").get(), "Ready"));

        // then
        Pod pod = admin.pods().inNamespace(ns).withName("web-0").get();
        PodNetwork network = runner.podNetwork(pod).orElseThrow();
        assertThat(pod.getSpec().getNodeName()).isEqualTo(TestPods.NODE);
        assertThat(pod.getStatus().getPhase()).isEqualTo("Running");
        assertThat(pod.getStatus().getPodIP()).isEqualTo(network.podIp()).startsWith("10.244.").isNotEqualTo("10.244.0.1");
        assertThat(pod.getStatus().getHostIP()).isEqualTo("10.244.0.1");
        assertThat(pod.getStatus().getContainerStatuses()).singleElement()
                .satisfies(s -> assertThat(s.getState().getRunning()).isNotNull());
        assertThat(network.netns()).hasValueSatisfying(name -> assertThat(Host.podNamespaces()).contains(name));
        assertThat(Host.run(network.inside("ip", "-4", "-o", "addr", "show", "dev", "eth0").toArray(String[]::new)).stdout())
                .contains(network.podIp() + "/16");
        assertThat(Host.curlInside(network, "http://10.244.0.1:" + Host.freeHostPort() + "/").exitCode())
                .as("the host's bridge address is reachable from the pod (refused, not unreachable)")
                .isEqualTo(Host.Result.CURL_COULD_NOT_CONNECT);
    }

    @Test
    @DisplayName("deleting a pod finishes its deletion and removes its network namespace")
    void deletingPodRemovesNetwork() {
        // given
        TestPods.createAppPod(admin, ns, "web-1");
        await().atMost(Duration.ofSeconds(30)).until(() -> runner.podNetwork(ns, "web-1").isPresent());
        String netns = runner.podNetwork(ns, "web-1").orElseThrow().netns().orElseThrow();
        assertThat(Host.podNamespaces()).contains(netns);

        // when
        admin.pods().inNamespace(ns).withName("web-1").delete();

        // then
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(admin.pods().inNamespace(ns).withName("web-1").get()).isNull();
            assertThat(Host.podNamespaces()).doesNotContain(netns);
        });
        assertThat(runner.podNetwork(ns, "web-1")).isEmpty();
    }

    @Test
    @DisplayName("deleting a pod stops its agent process, and closing the runner leaves no pod network behind")
    void deletingPodStopsAgent() {
        // given an agent running in a pod, dialling a relay that does not exist (it keeps retrying)
        TestPods.createAppPod(admin, ns, "db-0");
        await().atMost(Duration.ofSeconds(30)).until(() -> runner.podNetwork(ns, "db-0").isPresent());
        TestPods.createTokenSecret(admin, ns, "agent-token", "t0ken");
        try (TestRelay relay = new TestRelay(runner.hostAddress())) {
            TestPods.injectAgent(admin, ns, "db-0", "porthole-agent", "agent-token", relay, ns + "/db", 5432,
                    Instant.now().plus(Duration.ofMinutes(5)));
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> runner.containerPid(ns, "db-0", "porthole-agent").isPresent());
        OptionalLong pid = runner.containerPid(ns, "db-0", "porthole-agent");
        assertThat(ProcessHandle.of(pid.getAsLong())).hasValueSatisfying(p -> assertThat(p.isAlive()).isTrue());

        // when
        admin.pods().inNamespace(ns).withName("db-0").delete();

        // then
        await().atMost(Duration.ofSeconds(20)).until(() -> ProcessHandle.of(pid.getAsLong()).map(p -> !p.isAlive()).orElse(true));
        await().atMost(Duration.ofSeconds(20)).until(() -> admin.pods().inNamespace(ns).withName("db-0").get() == null);

        // and when another pod still runs and the runner closes
        TestPods.createAppPod(admin, ns, "web-" + UUID.randomUUID().toString().substring(0, 4));
        await().atMost(Duration.ofSeconds(30)).until(() -> !Host.podNamespaces().isEmpty());
        runner.close();

        // then
        assertThat(Host.podNamespaces()).isEmpty();
        assertThat(Host.podLinks()).isEmpty();
        assertThat(admin.nodes().withName(TestPods.NODE).get()).isNull();
    }

    @Test
    @DisplayName("without network namespaces, pods share the host's loopback and no pod network is created")
    void hostLoopbackMode() {
        // given the namespaced runner is closed, and one sharing the host's network runs instead
        runner.close();
        runner = new LocalPodRunner(admin, TestPods.NODE).onlyNamespace(ns).network(NetworkMode.HOST_LOOPBACK).start();

        // when
        TestPods.createAppPod(admin, ns, "web-2");
        await().atMost(Duration.ofSeconds(30)).until(() -> TestPods.hasCondition(admin.pods().inNamespace(ns).withName("web-2").get(), "Ready"));

        // then
        assertThat(runner.isolated()).isFalse();
        assertThat(runner.hostAddress()).isEqualTo("127.0.0.1");
        assertThat(admin.pods().inNamespace(ns).withName("web-2").get().getStatus().getPodIP()).isEqualTo("127.0.0.1");
        assertThat(runner.podNetwork(ns, "web-2")).hasValue(PodNetwork.HOST_LOOPBACK);
        assertThat(Host.podNamespaces()).isEmpty();
    }

    @Test
    @DisplayName("refuses a second runner with namespaces while one owns the host's pod networks")
    void secondRunnerRefused() {
        // when / then (the runner of this test is running)
        assertThatThrownBy(() -> new LocalPodRunner(admin, "another-node").network(NetworkMode.NAMESPACES).start())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("another LocalPodRunner");
        assertThat(admin.nodes().withName("another-node").get()).isNull();
    }

    @Test
    @DisplayName("at start, removes the pod namespaces of a killed run, and ends what still runs in them")
    void removesLeftoversOfKilledRun() throws Exception {
        // given what a killed run leaves: no runner, a ph-* namespace with a process in it
        runner.close();
        String leftover = "ph-leftover01";
        Host.run("ip", "netns", "add", leftover);
        Process orphan = new ProcessBuilder("ip", "netns", "exec", leftover, "sleep", "300").start();
        await().atMost(Duration.ofSeconds(10)).until(() -> Host.run("ip", "netns", "pids", leftover).stdout().strip()
                .equals(Long.toString(orphan.pid())));

        // when
        runner = new LocalPodRunner(admin, TestPods.NODE).onlyNamespace(ns).network(NetworkMode.NAMESPACES).start();

        // then
        assertThat(Host.podNamespaces()).doesNotContain(leftover);
        assertThat(orphan.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(Host.podLinks()).containsExactly("ph-br0");
    }
}
