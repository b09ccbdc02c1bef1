package dev.porthole.e2e.podrunner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.porthole.testcluster.LocalCluster;
import dev.porthole.testcluster.TestCluster;
import dev.porthole.testcluster.TestNamespace;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@LocalCluster
@DisplayName("An agent injected as an ephemeral container runs as a real process in the pod")
class AgentContainerIT {
    private KubernetesClient admin;
    private String ns;
    private LocalPodRunner runner;
    private TestRelay relay;

    @BeforeEach
    void start(TestCluster cluster, TestNamespace namespace) {
        admin = cluster.admin();
        ns = namespace.name();
        runner = TestPods.namespacedRunner(admin, ns);
        relay = new TestRelay(runner.hostAddress());
    }

    @AfterEach
    void stop() {
        relay.close();
        runner.close();
    }

    @Test
    @DisplayName("connects to the relay from the pod with its token from a Secret, is reported running, and at its deadline exits 0 and is reported terminated")
    void agentRunsUntilDeadline() {
        // given a running pod, the agent token in a Secret, and a relay that knows the token
        String forward = ns + "/orders-db";
        TestPods.createAppPod(admin, ns, "orders-db-0");
        await().atMost(Duration.ofSeconds(30)).until(() -> TestPods.hasCondition(admin.pods().inNamespace(ns).withName("orders-db-0").get(), "Ready"));
        TestPods.createTokenSecret(admin, ns, "orders-db-agent", "s3cret-token");
        relay.allowAgent(forward, "s3cret-token");
        Instant deadline = Instant.now().plus(Duration.ofSeconds(20));

        // when the agent is injected through pods/ephemeralcontainers
        TestPods.injectAgent(admin, ns, "orders-db-0", "porthole-agent-1", "orders-db-agent", relay, forward, 5432, deadline);

        // then it connects from inside the pod's network and is reported running
        await().atMost(Duration.ofSeconds(20)).until(() -> relay.agentConnectedEventSeen(forward));
        assertThat(relay.server().isAgentConnected(forward)).isTrue();
        long pid = runner.containerPid(ns, "orders-db-0", "porthole-agent-1").orElseThrow();
        assertThat(Host.run("ip", "netns", "identify", Long.toString(pid)).stdout().strip())
                .isEqualTo(runner.podNetwork(ns, "orders-db-0").orElseThrow().netns().orElseThrow());
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(TestPods.ephemeralStatus(admin, ns, "orders-db-0", "porthole-agent-1")).hasValueSatisfying(s -> {
                    assertThat(s.getState().getRunning()).isNotNull();
                    assertThat(s.getState().getRunning().getStartedAt()).isNotBlank();
                }));

        // and at its deadline it exits 0, and is reported terminated with exit code 0
        await().atMost(Duration.ofSeconds(45)).until(() -> TestPods.ephemeralStatus(admin, ns, "orders-db-0", "porthole-agent-1")
                .map(ContainerStatus::getState).map(s -> s.getTerminated() != null).orElse(false));
        ContainerStateTerminated terminated = TestPods.ephemeralStatus(admin, ns, "orders-db-0", "porthole-agent-1")
                .orElseThrow().getState().getTerminated();
        assertThat(terminated.getExitCode()).isZero();
        assertThat(terminated.getReason()).isEqualTo("Completed");
        assertThat(Instant.parse(terminated.getFinishedAt())).isAfterOrEqualTo(deadline.minusSeconds(1));
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
        assertThat(admin.pods().inNamespace(ns).withName("orders-db-0").get().getStatus().getPhase())
                .as("an ephemeral container's end does not end the pod").isEqualTo("Running");
    }
}
