package dev.porthole.e2e.system;

import static dev.porthole.e2e.system.E2eFixture.activeForward;
import static dev.porthole.e2e.system.E2eFixture.connected;
import static dev.porthole.e2e.system.E2eFixture.psql;
import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.operator.reconcile.AgentInjector;
import dev.porthole.testcluster.FreePorts;
import dev.porthole.testcluster.Identity;
import dev.porthole.testcluster.LocalCluster;
import dev.porthole.testcluster.ManagedProcess;
import dev.porthole.testcluster.NodeCgroups;
import dev.porthole.testcluster.NodeImages;
import dev.porthole.testcluster.NodePods;
import dev.porthole.testcluster.TestCluster;
import dev.porthole.testcluster.TestNamespace;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Porthole on a real node: a PostgreSQL pod from the image built here, listening only on its own 127.0.0.1; the
 * operator injects the agent image, which the real kubelet runs as an ephemeral container under the agent's
 * hardened security context; psql reaches the database through {@code porthole connect}; expiry cuts the session.
 */
@LocalCluster(realNode = true)
class RealNodeE2E {
    private static final Logger log = LoggerFactory.getLogger(RealNodeE2E.class);
    private TestCluster cluster;
    private LocalPorthole sys;

    @BeforeEach
    void system(TestCluster cluster) {
        this.cluster = cluster;
        sys = E2eFixture.system(cluster);
    }

    @Test
    @DisplayName("the kubelet runs the injected agent as uid 65532 on a read-only root with OpenSSL; psql works through it until expiry")
    void agentOnRealNodeCarriesPsqlUntilExpiry(TestNamespace ns) throws Exception {
        KubernetesClient admin = cluster.admin();
        E2eFixture.ready(sys, ns, "orders-db-0", NodePods.postgres("orders-db-0"));

        PortForward pf = activeForward(sys, ns, "orders-db-debug", "orders-db-0", 5432, "45s", null);
        ContainerStatus agentStatus = E2eFixture.runningAgent(sys, ns, "orders-db-0");
        assertThat(agentStatus.getImage()).isEqualTo(NodeImages.AGENT);
        String agentLog = admin.pods().inNamespace(ns.name()).withName("orders-db-0").inContainer(agentStatus.getName()).getLog();
        assertThat(agentLog).as("the agent in its pod loads the OpenSSL provider it was benchmarked with").contains("tls=OPENSSL");
        assertThat(uidOf(agentStatus.getContainerID())).isEqualTo("uid=" + AgentInjector.AGENT_UID);

        int local = FreePorts.next();
        ManagedProcess cli = connected(sys, Identity.ALICE, ns, "orders-db-debug", local);
        // the image's initdb makes only the postgres database; the later -d wins over the helper's
        HostClients.run(HostClients.psql(local, "-d", "postgres", "-c", "CREATE DATABASE app"), Duration.ofSeconds(30));
        psql(local, "CREATE TABLE orders(id int); INSERT INTO orders VALUES (3), (4)");
        assertThat(psql(local, "SELECT sum(id) FROM orders")).isEqualTo("7");
        log.info("agent container memory on the real node: {} (memory cgroup of {})",
                NodeCgroups.memory(agentStatus.getContainerID()), agentStatus.getContainerID());

        Instant expiresAt = Instant.parse(pf.getStatus().getExpiresAt());
        ManagedProcess longQuery = HostClients.psqlSession("psql-long", local, "SELECT pg_sleep(120)", sys.workDir().resolve("logs"));
        int psqlExit = longQuery.awaitExit(Duration.ofSeconds(90));
        assertThat(psqlExit).isNotZero();
        assertThat(Duration.between(expiresAt, Instant.now())).isBetween(Duration.ofSeconds(-1), Duration.ofSeconds(3));
        assertThat(cli.awaitExit(Duration.ofSeconds(10))).isEqualTo(3);
    }

    /** The agent image has no shell; the JVM's view of its own uid is what the kernel gave it: read it from /proc. */
    private static String uidOf(String containerID) throws Exception {
        long pid = NodeCgroups.firstPid(containerID);
        String status = Files.readString(Path.of("/proc", Long.toString(pid), "status"));
        String uidLine = status.lines().filter(l -> l.startsWith("Uid:")).findFirst().orElseThrow();
        return "uid=" + uidLine.split("\\s+")[1];
    }
}
