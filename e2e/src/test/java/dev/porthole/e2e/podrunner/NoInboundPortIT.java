package dev.porthole.e2e.podrunner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.porthole.cli.Forwarder;
import dev.porthole.protocol.EndReason;
import dev.porthole.testcluster.LocalCluster;
import dev.porthole.testcluster.Processes;
import dev.porthole.testcluster.TestCluster;
import dev.porthole.testcluster.TestNamespace;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@LocalCluster
@DisplayName("No inbound port: a target in a pod is reachable only through the forward")
class NoInboundPortIT {
    private KubernetesClient admin;
    private String ns;
    private LocalPodRunner runner;
    private TestRelay relay;
    private Process target;

    @BeforeEach
    void start(TestCluster cluster, TestNamespace namespace) {
        admin = cluster.admin();
        ns = namespace.name();
        runner = TestPods.namespacedRunner(admin, ns);
        relay = new TestRelay(runner.hostAddress());
    }

    @AfterEach
    void stop() {
        Processes.stop(target);
        relay.close();
        runner.close();
    }

    @Test
    @DisplayName("an HTTP server on the pod's 127.0.0.1 answers curl through relay, agent and client session, and never from the host (pod IP, loopback) or a neighbour pod: before, during and after the forward")
    void reachableOnlyThroughForward(@TempDir Path site) throws Exception {
        // given a pod running a real HTTP server bound to 127.0.0.1 inside its own network
        String forward = ns + "/web";
        String marker = "porthole-" + UUID.randomUUID();
        Files.writeString(site.resolve("marker.txt"), marker);
        TestPods.createAppPod(admin, ns, "web-0");
        await().atMost(Duration.ofSeconds(30)).until(() -> runner.podNetwork(ns, "web-0").isPresent());
        PodNetwork pod = runner.podNetwork(ns, "web-0").orElseThrow();
        int port = Host.freeHostPort();
        target = Host.start(pod.inside("python3", "-m", "http.server", Integer.toString(port), "--bind", "127.0.0.1",
                "--directory", site.toString()), Path.of("target", "http-server-" + port + ".log"));
        String inPodUrl = "http://127.0.0.1:" + port + "/marker.txt";
        await().atMost(Duration.ofSeconds(20)).until(() -> Host.curlInside(pod, inPodUrl).stdout().equals(marker));

        // and a neighbour pod on the same bridge
        TestPods.createAppPod(admin, ns, "neighbour-0");
        await().atMost(Duration.ofSeconds(30)).until(() -> runner.podNetwork(ns, "neighbour-0").isPresent());
        PodNetwork neighbour = runner.podNetwork(ns, "neighbour-0").orElseThrow();

        // then, before any forward, neither the host nor the neighbour can reach it
        assertUnreachableFromOutside(pod, neighbour, port);

        // when the agent is injected and a client connects through the relay
        TestPods.createTokenSecret(admin, ns, "web-agent", "web-token");
        relay.allowAgent(forward, "web-token");
        TestPods.injectAgent(admin, ns, "web-0", "porthole-agent-web", "web-agent", relay, forward, port,
                Instant.now().plus(Duration.ofMinutes(2)));
        await().atMost(Duration.ofSeconds(30)).until(() -> relay.server().isAgentConnected(forward));
        String forwardedUrl;
        try (Forwarder forwarder = relay.connect(forward)) {
            forwardedUrl = "http://127.0.0.1:" + forwarder.localAddress().getPort() + "/marker.txt";

            // then curl reaches the target through the forward, and still not directly
            Host.Result viaForward = Host.curl(forwardedUrl);
            assertThat(viaForward.exitCode()).as(viaForward.stderr()).isZero();
            assertThat(viaForward.stdout()).isEqualTo(marker);
            assertUnreachableFromOutside(pod, neighbour, port);
        }

        // when the forward ends (client gone, relay expires it, the agent exits)
        relay.server().closeForward(forward, EndReason.EXPIRED);
        await().atMost(Duration.ofSeconds(20)).until(() -> TestPods.ephemeralStatus(admin, ns, "web-0", "porthole-agent-web")
                .map(ContainerStatus::getState).map(s -> s.getTerminated() != null).orElse(false));

        // then nothing reaches the target from the host any more, while it still serves inside the pod
        assertThat(Host.curl(forwardedUrl).exitCode()).isEqualTo(Host.Result.CURL_COULD_NOT_CONNECT);
        assertUnreachableFromOutside(pod, neighbour, port);
        assertThat(Host.curlInside(pod, inPodUrl).stdout()).isEqualTo(marker);
    }

    /** From the host at the pod IP and at host loopback, and from a neighbour pod at the pod IP: refused, nothing listens there. */
    private static void assertUnreachableFromOutside(PodNetwork pod, PodNetwork neighbour, int port) {
        String atPodIp = "http://" + pod.podIp() + ":" + port + "/marker.txt";
        for (String url : List.of(atPodIp, "http://127.0.0.1:" + port + "/marker.txt")) {
            Host.Result result = Host.curl(url);
            assertThat(result.exitCode()).as("curl %s from the host: %s", url, result.stderr())
                    .isEqualTo(Host.Result.CURL_COULD_NOT_CONNECT);
        }
        Host.Result fromNeighbour = Host.curlInside(neighbour, atPodIp);
        assertThat(fromNeighbour.exitCode()).as("curl %s from pod %s: %s", atPodIp, neighbour.podIp(), fromNeighbour.stderr())
                .isEqualTo(Host.Result.CURL_COULD_NOT_CONNECT);
    }
}
