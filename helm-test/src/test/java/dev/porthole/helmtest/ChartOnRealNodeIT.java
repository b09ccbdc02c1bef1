package dev.porthole.helmtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.cli.ConnectCommand;
import dev.porthole.helmtest.support.Chart;
import dev.porthole.helmtest.support.PortholeCli;
import dev.porthole.sidecar.AgentJvm;
import dev.porthole.testcluster.FreePorts;
import dev.porthole.testcluster.CreatorAdmission;
import dev.porthole.testcluster.Creators;
import dev.porthole.testcluster.Identity;
import dev.porthole.testcluster.ManagedProcess;
import dev.porthole.testcluster.NodeCgroups;
import dev.porthole.testcluster.NodeImages;
import dev.porthole.testcluster.NodePods;
import dev.porthole.testcluster.RealNode;
import dev.porthole.testcluster.TestCluster;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The chart as the README installs it, on a real node: the operator runs as a pod from its image under the
 * chart's ServiceAccount with its probes passing, and a forward to a real PostgreSQL pod gets its agent
 * injected by the kubelet, which reaches the relay through the chart's Service by its cluster DNS name. A user
 * outside the cluster, bound to the chart's connect role as the README says, runs psql through
 * {@code porthole connect}, which reaches the relay through the chart's LoadBalancer Service, until the forward
 * expires and cuts the session.
 */
class ChartOnRealNodeIT {
    private static final Logger log = LoggerFactory.getLogger(ChartOnRealNodeIT.class);
    private static final String RELEASE = "porthole";
    private static final String NAMESPACE = "porthole-system";
    /**
     * The agent's JVM caps what it may take (AgentJvm): 32 MiB heap, 48 MiB metaspace, 24 MiB code cache and 64 MiB
     * direct buffers, 168 MiB in all; thread stacks (256 KiB each), the GC's and JIT's own memory and the pages of the
     * image's runtime it reads are not capped but come to tens of MiB. Above this the caps are gone or something leaks.
     */
    private static final long AGENT_MEMORY_BOUND = 256L << 20;
    private static final AtomicInteger PROCESSES = new AtomicInteger();
    private static TestCluster cluster;
    private static KubernetesClient admin;
    private static Path logs;

    @BeforeAll
    static void install() {
        cluster = TestCluster.startWithNode(Path.of("target", "chart-node-cluster"), Chart.ROOT);
        admin = cluster.admin();
        logs = cluster.workDir().resolve("clients");
        admin.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NAMESPACE)
                .addToLabels("pod-security.kubernetes.io/enforce", "restricted").endMetadata().build()).create();
        // the chart brings its own creator admission policy: the test cluster's copy makes way for it
        CreatorAdmission.uninstall(admin);
        // users outside the cluster dial the relay as a cloud load balancer on the node's address would take them
        Chart.helm().install().withName(RELEASE).withNamespace(NAMESPACE).withKubeConfig(cluster.kubeconfig())
                .set("relay.external.type", "LoadBalancer").set("relay.external.host", RealNode.NODE_ADDRESS).call();
        CreatorAdmission.awaitInstalled(admin);
        // the README's walkthrough: on-call (alice's group) may connect wherever they are in an audience
        kubectl("create", "clusterrolebinding", "porthole-connect-sre", "--clusterrole=" + RELEASE + "-connect",
                "--group=sre-oncall");
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    @DisplayName("helm install: the operator and the relay run as pods from the image, each under its own ServiceAccount,"
            + " and their probes pass; the operator exposes no relay port")
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
        assertThat(pod.getSpec().getContainers().get(0).getPorts()).extracting(p -> p.getName())
                .containsExactly("http-metrics");
        // the chart's default: two relay replicas
        Deployment r = admin.apps().deployments().inNamespace(NAMESPACE).withName(RELEASE + "-relay")
                .waitUntilCondition(x -> x != null && x.getStatus() != null && Integer.valueOf(2).equals(x.getStatus().getReadyReplicas()),
                        180, TimeUnit.SECONDS);
        List<Pod> relayPods = admin.pods().inNamespace(NAMESPACE).withLabels(r.getSpec().getSelector().getMatchLabels()).list()
                .getItems();
        assertThat(relayPods).hasSize(2).allSatisfy(relayPod -> {
            assertThat(relayPod.getSpec().getServiceAccountName()).isEqualTo(RELEASE + "-relay");
            assertThat(relayPod.getSpec().getContainers().get(0).getArgs()).containsExactly("relay");
            ContainerStatus relay = relayPod.getStatus().getContainerStatuses().get(0);
            assertThat(relay.getImage()).isEqualTo(NodeImages.OPERATOR);
            assertThat(relay.getReady()).as("the relay's readiness probe passed").isTrue();
        });
    }

    @Test
    @DisplayName("a forward to a PostgreSQL pod: the agent reaches the relay through its Service's DNS name; alice's psql goes"
            + " through porthole connect and the LoadBalancer's node port until expiry cuts it; the agent stays within its memory")
    void psqlThroughTheChartUntilExpiry() throws Exception {
        operatorRunsAsAPod();
        String ns = cluster.createNamespace("chart-node-target");
        apply(ns, NodePods.postgres("orders-db-0"));
        admin.pods().inNamespace(ns).withName("orders-db-0").waitUntilReady(120, TimeUnit.SECONDS);

        // short enough to wait for its expiry, long enough for the agent to start and psql to run first
        apply(ns, """
                apiVersion: porthole.dev/v1alpha1
                kind: PortForward
                metadata: { name: orders-db-debug }
                spec:
                  %s
                  target: { pod: orders-db-0, port: 5432 }
                  audience: { users: [alice] }
                  ttl: 45s
                  reason: "chart on a real node"
                """.formatted(Creators.yaml(Identity.ADMIN)));

        PortForward pf = await().atMost(Duration.ofSeconds(30)).until(
                () -> admin.resources(PortForward.class).inNamespace(ns).withName("orders-db-debug").get(),
                f -> f != null && f.getStatus() != null && f.getStatus().getConditions() != null
                        && f.getStatus().getConditions().stream()
                        .anyMatch(c -> "AgentConnected".equals(c.getType()) && "True".equals(c.getStatus())));
        assertThat(pf.getStatus().getPhase()).hasToString("Active");
        Pod target = admin.pods().inNamespace(ns).withName("orders-db-0").get();
        String agent = target.getSpec().getEphemeralContainers().get(0).getName();
        String agentLog = admin.pods().inNamespace(ns).withName("orders-db-0").inContainer(agent).getLog();
        // the agent dials the relays' headless Service by its DNS name and links both replicas
        assertThat(agentLog).contains("tls=OPENSSL").contains("porthole-relay-agents." + NAMESPACE + ".svc");
        await().atMost(Duration.ofSeconds(60)).until(() -> admin.events().v1().events().inNamespace(ns)
                .withLabel("porthole.dev/forward", "orders-db-debug").list().getItems().stream()
                .filter(e -> "AgentConnected".equals(e.getReason())).map(e -> e.getReportingInstance()).distinct()
                .count() == 2);
        assertThat(pf.getStatus().getRelay().getAddress()).as("users are told the chart's external address")
                .isEqualTo(RealNode.NODE_ADDRESS + ":7444");

        int local = FreePorts.next();
        String relay = RealNode.NODE_ADDRESS + ":" + relayNodePort();
        try (ManagedProcess cli = PortholeCli.connect(cluster, Identity.ALICE, ns + "/orders-db-debug", local, relay, logs)) {
            // the image's initdb makes only the postgres database
            psql(local, "postgres", "CREATE DATABASE app");
            psql(local, "app", "CREATE TABLE orders(id int); INSERT INTO orders VALUES (3), (4)");
            assertThat(psql(local, "app", "SELECT sum(id) FROM orders")).isEqualTo("7");
            agentStaysWithinItsMemory(ns, agent);

            Instant expiresAt = Instant.parse(pf.getStatus().getExpiresAt());
            assertThat(Instant.now()).as("the live session starts before the forward expires").isBefore(expiresAt);
            try (ManagedProcess longQuery = ManagedProcess.start("psql-long", psqlCommand(local, "app", "SELECT pg_sleep(120)"),
                    Map.of(), logs)) {
                int psqlExit = longQuery.awaitExit(Duration.ofSeconds(90));
                Duration afterExpiry = Duration.between(expiresAt, Instant.now());
                assertThat(psqlExit).as("psql cut off: %s", longQuery.stderr()).isNotZero();
                assertThat(longQuery.stderr()).as("the session was live, then closed").contains("server closed the connection");
                assertThat(afterExpiry).isBetween(Duration.ofSeconds(-1), Duration.ofSeconds(3));
            }
            assertThat(cli.awaitExit(Duration.ofSeconds(10))).as("porthole connect: %s", cli.stderr())
                    .isEqualTo(ConnectCommand.EXIT_EXPIRED);
        }
    }

    /** The node port of the chart's LoadBalancer Service: what a cloud load balancer forwards to on every node. */
    private static int relayNodePort() {
        Service svc = admin.services().inNamespace(NAMESPACE).withName(RELEASE + "-relay-external").get();
        assertThat(svc).as("the chart's relay-external Service").isNotNull();
        assertThat(svc.getSpec().getType()).isEqualTo("LoadBalancer");
        ServicePort port = svc.getSpec().getPorts().stream().filter(p -> "relay-clients".equals(p.getName())).findFirst().orElseThrow();
        assertThat(port.getPort()).isEqualTo(7444);
        assertThat(port.getNodePort()).as("node port allocated").isNotNull();
        return port.getNodePort();
    }

    /** The kernel's count of the agent container's memory, after it carried psql's sessions, with its JVM's caps in force. */
    private static void agentStaysWithinItsMemory(String ns, String agent) throws Exception {
        ContainerStatus status = admin.pods().inNamespace(ns).withName("orders-db-0").get().getStatus()
                .getEphemeralContainerStatuses().stream().filter(s -> s.getName().equals(agent)).findFirst().orElseThrow();
        long pid = NodeCgroups.firstPid(status.getContainerID());
        List<String> args = List.of(Files.readString(Path.of("/proc", Long.toString(pid), "cmdline")).split("\0"));
        assertThat(args).as("the agent's JVM runs with AgentJvm's caps").containsAll(List.of(AgentJvm.JAVA_TOOL_OPTIONS.split(" ")));
        NodeCgroups.Memory memory = NodeCgroups.memory(status.getContainerID());
        log.info("agent container memory on the real node, chart install: {} (memory cgroup of {})", memory, status.getContainerID());
        assertThat(memory.workingSet()).as("agent working set now, bytes").isPositive().isLessThan(AGENT_MEMORY_BOUND);
        assertThat(memory.peak()).as("agent memory at its highest since it started, bytes").isLessThan(AGENT_MEMORY_BOUND);
    }

    /** psql against 127.0.0.1:{@code port}, a forward's local end, as the image's trusted user postgres. */
    private static List<String> psqlCommand(int port, String database, String sql) {
        return List.of("/usr/bin/psql", "-h", "127.0.0.1", "-p", Integer.toString(port), "-U", "postgres", "-d", database,
                "-At", "-v", "ON_ERROR_STOP=1", "-c", sql);
    }

    /** Runs one statement to completion; its output. */
    private static String psql(int port, String database, String sql) {
        try (ManagedProcess p = ManagedProcess.start("psql-" + PROCESSES.incrementAndGet(), psqlCommand(port, database, sql),
                Map.of(), logs)) {
            assertThat(p.awaitExit(Duration.ofSeconds(30))).as("psql %s: %s", sql, p.stderr()).isZero();
            return p.stdout().strip();
        }
    }

    private static void kubectl(String... args) {
        TestCluster.KubectlResult r = cluster.kubectl(Identity.ADMIN, args);
        assertThat(r.succeeded()).as("kubectl %s: %s", String.join(" ", args), r.stderr()).isTrue();
    }

    private static void apply(String ns, String yaml) {
        TestCluster.KubectlResult r = cluster.apply(Identity.ADMIN, ns, yaml);
        assertThat(r.succeeded()).as("kubectl apply: %s", r.stderr()).isTrue();
    }
}
