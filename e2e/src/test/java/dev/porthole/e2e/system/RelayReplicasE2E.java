package dev.porthole.e2e.system;

import static dev.porthole.e2e.system.E2eFixture.POSTGRES_PORT;
import static dev.porthole.e2e.system.E2eFixture.activeForward;
import static dev.porthole.e2e.system.E2eFixture.postgres;
import static dev.porthole.e2e.system.E2eFixture.psql;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.porthole.testcluster.FreePorts;
import dev.porthole.testcluster.Identity;
import dev.porthole.testcluster.LocalCluster;
import dev.porthole.testcluster.ManagedProcess;
import dev.porthole.testcluster.TestCluster;
import dev.porthole.testcluster.TestNamespace;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Two relay replicas, each its own process with the relay's ServiceAccount, as the chart installs them: the agent links
 * both, either opens any client's session, and losing one (a crash, a rolling restart) loses only the sessions it
 * carried while {@code porthole connect} keeps its port and goes on through the other.
 */
@LocalCluster(realNode = true)
class RelayReplicasE2E {
    private LocalPorthole sys;

    @BeforeEach
    void system(TestCluster cluster) {
        sys = E2eFixture.system(cluster);
    }

    @Test
    @DisplayName("a killed relay replica leaves the other's sessions untouched; new sessions go through the other while porthole connect keeps running")
    void killedReplica(TestNamespace ns) throws InterruptedException {
        // given: one porthole connect on each replica, each with a psql prompt open through it
        postgres(sys, ns, "db-0");
        activeForward(sys, ns, "twin", "db-0", POSTGRES_PORT, "10m", null);
        int port0 = FreePorts.next();
        int port1 = FreePorts.next();
        ManagedProcess cli0 = connect(ns, "twin", port0, 0);
        ManagedProcess cli1 = connect(ns, "twin", port1, 1);
        ManagedProcess prompt0 = HostClients.psqlInteractive("psql-replica-0", port0, sys.workDir().resolve("logs"));
        ManagedProcess prompt1 = HostClients.psqlInteractive("psql-replica-1", port1, sys.workDir().resolve("logs"));
        prompt0.sendLine("SELECT 'zero:' || pg_backend_pid();");
        prompt1.sendLine("SELECT 'one:' || pg_backend_pid();");
        String backend0 = E2eFixture.afterMarker(prompt0, "zero:");
        E2eFixture.afterMarker(prompt1, "one:");

        try {
            // when: replica 1 dies at once (SIGKILL: no drain, no goodbye)
            assertThat(sys.relay(1).orElseThrow().process().destroyForcibly().waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();

            // then: the session on replica 0 goes on, the same server process answering
            prompt0.sendLine("SELECT 'zero-again:' || pg_backend_pid();");
            assertThat(E2eFixture.afterMarker(prompt0, "zero-again:")).isEqualTo(backend0);
            // the one that was on replica 1 is gone with it: its next query finds the connection closed
            prompt1.sendLine("SELECT 'one-again';");
            assertThat(prompt1.awaitExit(Duration.ofSeconds(30))).isNotZero();
            assertThat(prompt1.stderr()).contains("server closed the connection");
            // and the connect that used replica 1 kept its port and opens new sessions through replica 0
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(cli1.stderr())
                    .contains("reconnected to the relay at " + sys.relayAddress() + ":"));
            assertThat(psql(port1, "SELECT 'through the other'")).isEqualTo("through the other");
            assertThat(psql(port0, "SELECT 'still here'")).isEqualTo("still here");
            assertThat(cli0.isAlive()).isTrue();
            assertThat(cli1.isAlive()).isTrue();
        } finally {
            prompt0.close();
            if (!sys.relay(1).orElseThrow().isAlive()) {
                restore(ns, "twin", 1);
            }
        }
    }

    @Test
    @DisplayName("a rolling restart of the relays: each replica drains in turn, and new sessions succeed throughout through both connects")
    void rollingRestart(TestNamespace ns) {
        // given
        postgres(sys, ns, "db-0");
        activeForward(sys, ns, "rolling", "db-0", POSTGRES_PORT, "10m", null);
        int port0 = FreePorts.next();
        int port1 = FreePorts.next();
        ManagedProcess cli0 = connect(ns, "rolling", port0, 0);
        ManagedProcess cli1 = connect(ns, "rolling", port1, 1);

        try {
            rollEach(ns, port0, port1);
        } finally {
            for (int replica = 0; replica < E2eFixture.RELAY_REPLICAS; replica++) {
                if (!sys.relay(replica).orElseThrow().isAlive()) {
                    restore(ns, "rolling", replica);
                }
            }
        }
        assertThat(cli0.isAlive()).isTrue();
        assertThat(cli1.isAlive()).isTrue();
        assertThat(psql(port0, "SELECT 'after the rollout'")).isEqualTo("after the rollout");
        assertThat(psql(port1, "SELECT 'after the rollout'")).isEqualTo("after the rollout");
    }

    private void rollEach(TestNamespace ns, int port0, int port1) {
        for (int replica = 0; replica < E2eFixture.RELAY_REPLICAS; replica++) {
            // a prompt open through the replica about to stop
            int through = replica == 0 ? port0 : port1;
            ManagedProcess prompt = HostClients.psqlInteractive("psql-draining-" + replica, through,
                    sys.workDir().resolve("logs"));
            prompt.sendLine("SELECT 'open:' || pg_backend_pid();");
            String backend = E2eFixture.afterMarker(prompt, "open:");

            // when: SIGTERM, as a pod being replaced gets it
            ManagedProcess relay = sys.relay(replica).orElseThrow();
            relay.process().destroy();

            // then: its live session goes on while it drains, and new sessions succeed through both connects
            prompt.sendLine("SELECT 'draining:' || pg_backend_pid();");
            assertThat(E2eFixture.afterMarker(prompt, "draining:")).isEqualTo(backend);
            // (a session asked for through a connect not yet moved to the other replica is refused: try again)
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().untilAsserted(() -> {
                assertThat(psql(port0, "SELECT 'zero'")).isEqualTo("zero");
                assertThat(psql(port1, "SELECT 'one'")).isEqualTo("one");
            });
            // the replica stops once its last session ended, before its grace is up
            prompt.sendLine("\\q");
            assertThat(prompt.awaitExit(Duration.ofSeconds(10))).isZero();
            assertThat(relay.awaitExit(Duration.ofSeconds(15))).isNotNegative();
            restore(ns, "rolling", replica);
        }
    }

    /** {@code porthole connect} whose control connection reaches replica {@code first}, the other one next. */
    private ManagedProcess connect(TestNamespace ns, String forward, int localPort, int first) {
        String[] relays = sys.relayClientAddresses().split(",");
        String order = first == 0 ? relays[0] + "," + relays[1] : relays[1] + "," + relays[0];
        ManagedProcess cli = sys.connect(Identity.ALICE, ns.name() + "/" + forward, localPort, "--relay", order);
        cli.awaitOutput(out -> out.contains("Forwarding 127.0.0.1:" + localPort), Duration.ofSeconds(60));
        assertThat(cli.stdout()).contains("via relay " + relays[first]);
        return cli;
    }

    /** Starts replica {@code index} again and waits until the forward's agent has linked it. */
    private void restore(TestNamespace ns, String forward, int index) {
        java.time.Instant since = java.time.Instant.now();
        sys.startRelay(index);
        E2eFixture.awaitLinkedSince(sys, ns, forward, index, since);
    }
}
