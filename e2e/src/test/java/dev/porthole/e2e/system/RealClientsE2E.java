package dev.porthole.e2e.system;

import static dev.porthole.e2e.system.E2eFixture.activeForward;
import static dev.porthole.e2e.system.E2eFixture.connected;
import static dev.porthole.e2e.system.E2eFixture.dir;
import static dev.porthole.e2e.system.E2eFixture.event;
import static dev.porthole.e2e.system.E2eFixture.pod;
import static dev.porthole.e2e.system.E2eFixture.psql;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.porthole.e2e.podrunner.PodNetwork;
import dev.porthole.testcluster.Identity;
import dev.porthole.testcluster.LocalCluster;
import dev.porthole.testcluster.ManagedProcess;
import dev.porthole.testcluster.TestCluster;
import dev.porthole.testcluster.TestNamespace;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Real clients through the real path: kubectl apply → operator → injected agent → relay → porthole connect. */
@LocalCluster
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
        PodNetwork net = pod(sys, ns, "orders-db-0", "postgres", 15432);
        try (ManagedProcess pg = TargetServers.postgres(net, dir(sys, ns, "pg"), 15432)) {
            activeForward(sys, ns, "orders-db-debug", "orders-db-0", 15432, "10m", null);
            int local = LocalPorthole.freePort();
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
    }

    @Test
    @DisplayName("redis-cli talks to Redis in its pod through a forward")
    void redisThroughForward(TestNamespace ns) {
        // given
        PodNetwork net = pod(sys, ns, "cache-0", "redis", 16379);
        try (ManagedProcess redis = TargetServers.redis(net, dir(sys, ns, "redis"), 16379)) {
            activeForward(sys, ns, "cache", "cache-0", 16379, "10m", null);
            int local = LocalPorthole.freePort();
            connected(sys, Identity.ALICE, ns, "cache", local);

            // when
            String set = TargetServers.run(List.of("/usr/bin/redis-cli", "-p", Integer.toString(local), "SET", "incident", "INC-4821"),
                    Duration.ofSeconds(20)).trim();
            String got = TargetServers.run(List.of("/usr/bin/redis-cli", "-p", Integer.toString(local), "GET", "incident"),
                    Duration.ofSeconds(20)).trim();

            // then
            assertThat(set).isEqualTo("OK");
            assertThat(got).isEqualTo("INC-4821");
        }
    }

    @Test
    @DisplayName("curl fetches from an HTTP server in its pod; two forwards to two pods stay isolated")
    void curlAndIsolation(TestNamespace ns) {
        // given
        PodNetwork a = pod(sys, ns, "web-a", "http", 18080);
        PodNetwork b = pod(sys, ns, "web-b", "http", 18080);
        try (ManagedProcess httpA = TargetServers.http(a, dir(sys, ns, "a"), 18080, "hello from A");
             ManagedProcess httpB = TargetServers.http(b, dir(sys, ns, "b"), 18080, "hello from B")) {
            activeForward(sys, ns, "web-a", "web-a", 18080, "10m", null);
            activeForward(sys, ns, "web-b", "web-b", 18080, "10m", null);
            int localA = LocalPorthole.freePort();
            int localB = LocalPorthole.freePort();
            connected(sys, Identity.ALICE, ns, "web-a", localA);
            connected(sys, Identity.ALICE, ns, "web-b", localB);

            // when / then
            for (int i = 0; i < 3; i++) {
                assertThat(curl(localA)).isEqualTo("hello from A");
                assertThat(curl(localB)).isEqualTo("hello from B");
            }
        }
    }

    @Test
    @DisplayName("the target's port cannot be reached from outside its pod before, during or after the forward")
    void noInboundPort(TestNamespace ns) {
        // given
        PodNetwork net = pod(sys, ns, "secret-db-0", "postgres", 15433);
        try (ManagedProcess pg = TargetServers.postgres(net, dir(sys, ns, "pg"), 15433)) {
            assertUnreachable(net, 15433);

            // when: a forward is live and used
            activeForward(sys, ns, "db", "secret-db-0", 15433, "10m", null);
            int local = LocalPorthole.freePort();
            ManagedProcess cli = connected(sys, Identity.ALICE, ns, "db", local);
            assertThat(psql(local, "SELECT 1")).isEqualTo("1");

            // then: still nothing listens outside the pod's own loopback
            assertUnreachable(net, 15433);
            sys.cluster().admin().resources(dev.porthole.api.v1alpha1.PortForward.class).inNamespace(ns.name()).withName("db").delete();
            cli.awaitExit(Duration.ofSeconds(10));
            assertUnreachable(net, 15433);
            // and inside the pod it was there all along
            assertThat(TargetServers.run(net.inside("/usr/lib/postgresql/15/bin/pg_isready", "-h", "127.0.0.1", "-p", "15433"),
                    Duration.ofSeconds(10))).contains("accepting connections");
        }
    }

    private static void assertUnreachable(PodNetwork net, int port) {
        for (String host : List.of(net.podIp(), "127.0.0.1")) {
            assertThatThrownBy(() -> {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(host, port), 2000);
                }
            }).as("%s:%d must not accept connections from the host", host, port).isInstanceOf(IOException.class);
        }
    }

    private static String curl(int port) {
        return TargetServers.run(List.of("/usr/bin/curl", "-sS", "--max-time", "10", "http://127.0.0.1:" + port + "/"),
                Duration.ofSeconds(20)).trim();
    }
}
