package dev.porthole.e2e.system;

import static dev.porthole.e2e.system.E2eFixture.HTTP_PORT;
import static dev.porthole.e2e.system.E2eFixture.POSTGRES_PORT;
import static dev.porthole.e2e.system.E2eFixture.REDIS_PORT;
import static dev.porthole.e2e.system.E2eFixture.activeForward;
import static dev.porthole.e2e.system.E2eFixture.connected;
import static dev.porthole.e2e.system.E2eFixture.event;
import static dev.porthole.e2e.system.E2eFixture.psql;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.testcluster.FreePorts;
import dev.porthole.testcluster.Identity;
import dev.porthole.testcluster.LocalCluster;
import dev.porthole.testcluster.ManagedProcess;
import dev.porthole.testcluster.NodePods;
import dev.porthole.testcluster.TestCluster;
import dev.porthole.testcluster.TestNamespace;
import io.fabric8.kubernetes.api.model.Pod;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Real clients through the real path: kubectl apply → operator → agent injected by the kubelet → relay →
 * porthole connect, to servers in pods on a real node from the images built here.
 */
@LocalCluster(realNode = true)
class RealClientsE2E {
    private LocalPorthole sys;

    @BeforeEach
    void system(TestCluster cluster) {
        sys = E2eFixture.system(cluster);
    }

    @Test
    @DisplayName("psql queries PostgreSQL in its pod through a forward, and the session is audited")
    void psqlThroughForward(TestNamespace ns) {
        // given
        E2eFixture.postgres(sys, ns, "orders-db-0");
        activeForward(sys, ns, "orders-db-debug", "orders-db-0", POSTGRES_PORT, "10m", null);
        int local = FreePorts.next();
        connected(sys, Identity.ALICE, ns, "orders-db-debug", local);

        // when
        String row = psql(local, "SELECT id || ' ' || state FROM orders");

        // then
        assertThat(row).isEqualTo("4821 stuck in migration");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(event(sys, ns, "orders-db-debug", "SessionOpened").getNote()).contains("user=alice");
            // psql sends Terminate and closes; PostgreSQL closes on reading it: either close may reach the relay first
            assertThat(event(sys, ns, "orders-db-debug", "SessionClosed").getNote())
                    .containsAnyOf("endReason=CLIENT_CLOSED", "endReason=TARGET_CLOSED");
        });
    }

    @Test
    @DisplayName("redis-cli talks to Redis in its pod through a forward")
    void redisThroughForward(TestNamespace ns) {
        // given
        E2eFixture.redis(sys, ns, "cache-0");
        activeForward(sys, ns, "cache", "cache-0", REDIS_PORT, "10m", null);
        int local = FreePorts.next();
        connected(sys, Identity.ALICE, ns, "cache", local);

        // when
        String set = HostClients.run(HostClients.redisCli(local, "SET", "incident", "INC-4821"),
                Duration.ofSeconds(20)).trim();
        String got = HostClients.run(HostClients.redisCli(local, "GET", "incident"),
                Duration.ofSeconds(20)).trim();

        // then
        assertThat(set).isEqualTo("OK");
        assertThat(got).isEqualTo("INC-4821");
    }

    @Test
    @DisplayName("curl fetches from an HTTP server in its pod; two forwards to two pods stay isolated")
    void curlAndIsolation(TestNamespace ns) {
        // given
        E2eFixture.web(sys, ns, "web-a", "hello from A");
        E2eFixture.web(sys, ns, "web-b", "hello from B");
        activeForward(sys, ns, "web-a", "web-a", HTTP_PORT, "10m", null);
        activeForward(sys, ns, "web-b", "web-b", HTTP_PORT, "10m", null);
        int localA = FreePorts.next();
        int localB = FreePorts.next();
        connected(sys, Identity.ALICE, ns, "web-a", localA);
        connected(sys, Identity.ALICE, ns, "web-b", localB);

        // when / then
        for (int i = 0; i < 3; i++) {
            assertThat(curl(localA)).isEqualTo("hello from A");
            assertThat(curl(localB)).isEqualTo("hello from B");
        }
    }

    @Test
    @DisplayName("the target's port cannot be reached from the host or a neighbour pod before, during or after the forward")
    void noInboundPort(TestNamespace ns) {
        // given a database on its pod's 127.0.0.1 and a neighbour pod on the same bridge
        Pod db = E2eFixture.postgres(sys, ns, "secret-db-0");
        E2eFixture.ready(sys, ns, "neighbour-0", NodePods.neighbour("neighbour-0"));
        String podIp = db.getStatus().getPodIP();
        assertUnreachable(ns, podIp);

        // when: a forward is live and used
        activeForward(sys, ns, "db", "secret-db-0", POSTGRES_PORT, "10m", null);
        int local = FreePorts.next();
        ManagedProcess cli = connected(sys, Identity.ALICE, ns, "db", local);
        assertThat(psql(local, "SELECT 1")).isEqualTo("1");

        // then: still nothing listens outside the pod's own loopback: the agent dialled out, it opened no port
        assertUnreachable(ns, podIp);
        assertThat(listeningSockets(ns, "secret-db-0")).containsExactly("127.0.0.1:" + POSTGRES_PORT);
        sys.cluster().admin().resources(PortForward.class).inNamespace(ns.name()).withName("db").delete();
        cli.awaitExit(Duration.ofSeconds(10));
        assertUnreachable(ns, podIp);
        // and inside the pod it was there all along
        assertThat(E2eFixture.inPod(sys, ns, "secret-db-0", "pg_isready", "-h", "127.0.0.1", "-p", "5432"))
                .contains("accepting connections");
    }

    /** From the host and from the neighbour pod, at the pod's address: refused, nothing listens there. */
    private void assertUnreachable(TestNamespace ns, String podIp) {
        assertThatThrownBy(() -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(podIp, POSTGRES_PORT), 2000);
            }
        }).as("%s:%d must not accept connections from the host", podIp, POSTGRES_PORT).isInstanceOf(IOException.class);
        String fromNeighbour = E2eFixture.inPod(sys, ns, "neighbour-0", "sh", "-c",
                "nc -w 2 " + podIp + " " + POSTGRES_PORT + " </dev/null && echo connected || echo refused");
        assertThat(fromNeighbour).as("from the neighbour pod").isEqualTo("refused\n");
    }

    /** The TCP sockets listening in the pod's network namespace, from the kernel's own table (/proc/net/tcp). */
    private List<String> listeningSockets(TestNamespace ns, String pod) {
        List<String> v6 = listening(E2eFixture.inPod(sys, ns, pod, "cat", "/proc/net/tcp6"));
        assertThat(v6).as("IPv6 listeners in %s", pod).isEmpty();
        return listening(E2eFixture.inPod(sys, ns, pod, "cat", "/proc/net/tcp")).stream().map(RealClientsE2E::address).toList();
    }

    /** The local addresses of the sockets in state LISTEN (0A) of a /proc/net/tcp table. */
    private static List<String> listening(String table) {
        return table.lines().skip(1).map(String::trim).map(l -> l.split("\\s+")).filter(f -> "0A".equals(f[3]))
                .map(f -> f[1]).toList();
    }

    /** {@code 0100007F:1538} → {@code 127.0.0.1:5432} (the kernel prints the IPv4 address little-endian). */
    private static String address(String hex) {
        String[] parts = hex.split(":");
        long ip = Long.parseLong(parts[0], 16);
        return (ip & 0xff) + "." + (ip >> 8 & 0xff) + "." + (ip >> 16 & 0xff) + "." + (ip >> 24 & 0xff) + ":"
                + Integer.parseInt(parts[1], 16);
    }

    private static String curl(int port) {
        return HostClients.run(HostClients.curl(port), Duration.ofSeconds(20)).trim();
    }
}
