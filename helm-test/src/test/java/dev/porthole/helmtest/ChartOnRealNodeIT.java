package dev.porthole.helmtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.helmtest.support.Chart;
import dev.porthole.testcluster.CreatorAdmission;
import dev.porthole.testcluster.Creators;
import dev.porthole.testcluster.Identity;
import dev.porthole.testcluster.NodeImages;
import dev.porthole.testcluster.NodePods;
import dev.porthole.testcluster.TestCluster;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The chart as the README installs it, on a real node: the operator runs as a pod from its image under the
 * chart's ServiceAccount with its probes passing, and a forward to a real PostgreSQL pod gets its agent
 * injected by the kubelet, which reaches the relay through the chart's Service by its cluster DNS name.
 */
class ChartOnRealNodeIT {
    private static final String RELEASE = "porthole";
    private static final String NAMESPACE = "porthole-system";
    private static TestCluster cluster;
    private static KubernetesClient admin;

    @BeforeAll
    static void install() {
        cluster = TestCluster.startWithNode(Path.of("target", "chart-node-cluster"), Chart.ROOT);
        admin = cluster.admin();
        admin.namespaces().resource(new io.fabric8.kubernetes.api.model.NamespaceBuilder().withNewMetadata().withName(NAMESPACE)
                .addToLabels("pod-security.kubernetes.io/enforce", "restricted").endMetadata().build()).create();
        // the chart brings its own creator admission policy: the test cluster's copy makes way for it
        CreatorAdmission.uninstall(admin);
        Chart.helm().install().withName(RELEASE).withNamespace(NAMESPACE).withKubeConfig(cluster.kubeconfig()).call();
        CreatorAdmission.awaitInstalled(admin);
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    @DisplayName("helm install: the operator runs as a pod from its image, under the chart's ServiceAccount, and its probes pass")
    void operatorRunsAsAPod() {
        Deployment d = admin.apps().deployments().inNamespace(NAMESPACE).withName(RELEASE)
                .waitUntilCondition(x -> x != null && x.getStatus() != null && Integer.valueOf(1).equals(x.getStatus().getReadyReplicas()),
                        180, TimeUnit.SECONDS);
        Pod pod = admin.pods().inNamespace(NAMESPACE).withLabels(d.getSpec().getSelector().getMatchLabels()).list().getItems().get(0);
        assertThat(pod.getSpec().getServiceAccountName()).isEqualTo(RELEASE);
        ContainerStatus operator = pod.getStatus().getContainerStatuses().get(0);
        assertThat(operator.getImage()).isEqualTo(NodeImages.OPERATOR);
        assertThat(operator.getReady()).as("readiness probe passed").isTrue();
        assertThat(operator.getStarted()).as("startup probe passed").isTrue();
        assertThat(operator.getRestartCount()).as("liveness never failed").isZero();
    }

    @Test
    @DisplayName("a forward to a PostgreSQL pod: the kubelet runs the agent, which connects to the relay through its Service's DNS name")
    void agentReachesRelayThroughTheService() throws Exception {
        operatorRunsAsAPod();
        String ns = cluster.createNamespace("chart-node-target");
        apply(ns, NodePods.postgres("orders-db-0"));
        admin.pods().inNamespace(ns).withName("orders-db-0").waitUntilReady(120, TimeUnit.SECONDS);

        apply(ns, """
                apiVersion: porthole.dev/v1alpha1
                kind: PortForward
                metadata: { name: orders-db-debug }
                spec:
                  %s
                  target: { pod: orders-db-0, port: 5432 }
                  audience: { users: [alice] }
                  ttl: 10m
                  reason: "chart on a real node"
                """.formatted(Creators.yaml(Identity.ADMIN)));

        PortForward pf = await().atMost(Duration.ofSeconds(90)).until(
                () -> admin.resources(PortForward.class).inNamespace(ns).withName("orders-db-debug").get(),
                f -> f != null && f.getStatus() != null && f.getStatus().getConditions() != null
                        && f.getStatus().getConditions().stream()
                        .anyMatch(c -> "AgentConnected".equals(c.getType()) && "True".equals(c.getStatus())));
        assertThat(pf.getStatus().getPhase()).hasToString("Active");
        Pod target = admin.pods().inNamespace(ns).withName("orders-db-0").get();
        String agent = target.getSpec().getEphemeralContainers().get(0).getName();
        String log = admin.pods().inNamespace(ns).withName("orders-db-0").inContainer(agent).getLog();
        assertThat(log).contains("tls=OPENSSL").contains("porthole-relay." + NAMESPACE + ".svc");
    }

    private static void apply(String ns, String yaml) {
        TestCluster.KubectlResult r = cluster.apply(Identity.ADMIN, ns, yaml);
        assertThat(r.succeeded()).as("kubectl apply: %s", r.stderr()).isTrue();
    }
}
