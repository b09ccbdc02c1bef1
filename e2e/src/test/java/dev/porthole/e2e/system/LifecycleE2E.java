package dev.porthole.e2e.system;

import static dev.porthole.e2e.system.E2eFixture.activeForward;
import static dev.porthole.e2e.system.E2eFixture.apply;
import static dev.porthole.e2e.system.E2eFixture.connected;
import static dev.porthole.e2e.system.E2eFixture.event;
import static dev.porthole.e2e.system.E2eFixture.get;
import static dev.porthole.e2e.system.E2eFixture.HTTP_PORT;
import static dev.porthole.e2e.system.E2eFixture.POSTGRES_PORT;
import static dev.porthole.e2e.system.E2eFixture.postgres;
import static dev.porthole.e2e.system.E2eFixture.psql;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.api.v1alpha1.Phase;
import dev.porthole.cli.ConnectCommand;
import dev.porthole.testcluster.FreePorts;
import dev.porthole.testcluster.NodeCgroups;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import dev.porthole.testcluster.Identity;
import dev.porthole.testcluster.LocalCluster;
import dev.porthole.testcluster.ManagedProcess;
import dev.porthole.testcluster.TestCluster;
import dev.porthole.testcluster.TestNamespace;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** A forward's end, its audience and its limits, shown with real psql sessions on the whole system and a real node. */
@LocalCluster(realNode = true)
class LifecycleE2E {
    private LocalPorthole sys;

    @BeforeEach
    void system(TestCluster cluster) {
        sys = E2eFixture.system(cluster);
    }

    @Test
    @DisplayName("expiry ends a live psql session within [TTL-1s, TTL+2s] and a new connection is refused")
    void expiryEndsLiveSession(TestNamespace ns) {
        // given
        postgres(sys, ns, "db-0");
        PortForward pf = activeForward(sys, ns, "brief", "db-0", POSTGRES_PORT, "20s", null);
        Instant expiresAt = Instant.parse(pf.getStatus().getExpiresAt());
        int local = FreePorts.next();
        ManagedProcess cli = connected(sys, Identity.ALICE, ns, "brief", local);

        // when: a session that would run for a minute
        ManagedProcess longQuery = HostClients.psqlSession("psql-long", local, "SELECT pg_sleep(60)", sys.workDir().resolve("logs"));
        int psqlExit = longQuery.awaitExit(Duration.ofSeconds(40));
        Instant ended = Instant.now();

        // then
        assertThat(psqlExit).isNotZero();
        assertThat(Duration.between(expiresAt, ended)).isBetween(Duration.ofSeconds(-1), Duration.ofSeconds(2));
        assertThat(cli.awaitExit(Duration.ofSeconds(10))).isEqualTo(3);
        assertThat(cli.stderr()).contains("expired");
        ManagedProcess late = sys.connect(Identity.ALICE, ns.name() + "/brief", FreePorts.next());
        assertThat(late.awaitExit(Duration.ofSeconds(30))).isNotZero();
        assertThat(late.stderr()).contains("does not exist");
        // and the kubelet reports the agent's container as ended by itself at the deadline, not killed
        ContainerStateTerminated agentEnd = await().atMost(Duration.ofSeconds(20)).until(
                () -> E2eFixture.agentStatus(sys, ns, "db-0").map(st -> st.getState().getTerminated()).orElse(null),
                t -> t != null);
        assertThat(agentEnd.getExitCode()).isZero();
    }

    @Test
    @DisplayName("deleting the forward cuts a live psql session within one second; the Events say revoked")
    void revocationCutsLiveSession(TestNamespace ns) {
        // given
        postgres(sys, ns, "db-0");
        activeForward(sys, ns, "revoke-me", "db-0", POSTGRES_PORT, "10m", null);
        int local = FreePorts.next();
        ManagedProcess cli = connected(sys, Identity.ALICE, ns, "revoke-me", local);
        ManagedProcess longQuery = HostClients.psqlSession("psql-long", local, "SELECT pg_sleep(60)", sys.workDir().resolve("logs"));
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                assertThat(E2eFixture.events(sys, ns, "revoke-me")).anySatisfy(e -> assertThat(e.getReason()).isEqualTo("SessionOpened")));

        // when
        Instant deleted = Instant.now();
        sys.cluster().kubectl(Identity.ALICE, "delete", "pf", "-n", ns.name(), "revoke-me", "--wait=false");
        longQuery.awaitExit(Duration.ofSeconds(10));

        // then
        assertThat(Duration.between(deleted, Instant.now())).isLessThan(Duration.ofSeconds(1));
        assertThat(cli.awaitExit(Duration.ofSeconds(10))).isEqualTo(4);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(event(sys, ns, "revoke-me", "Revoked").getNote()).contains("deleted before its expiry");
            assertThat(event(sys, ns, "revoke-me", "SessionClosed").getNote()).contains("endReason=REVOKED");
        });
    }

    @Test
    @DisplayName("a client outside the audience is refused and told why")
    void outsiderRefused(TestNamespace ns) {
        // given
        E2eFixture.web(sys, ns, "web-0", "private page");
        activeForward(sys, ns, "private", "web-0", HTTP_PORT, "10m", null);

        // when
        ManagedProcess cli = sys.connect(Identity.MALLORY, ns.name() + "/private", FreePorts.next());

        // then
        assertThat(cli.awaitExit(Duration.ofSeconds(60))).isEqualTo(1);
        assertThat(cli.stderr()).contains("client certificate refused: mallory is not in the audience of forward "
                + ns.name() + "/private");
    }

    @Test
    @DisplayName("maxSessions is enforced, and the refusal's reason is in the Event")
    void maxSessionsEnforced(TestNamespace ns) {
        // given
        postgres(sys, ns, "db-0");
        activeForward(sys, ns, "one-at-a-time", "db-0", POSTGRES_PORT, "10m", "  maxSessions: 1\n");
        int local = FreePorts.next();
        connected(sys, Identity.ALICE, ns, "one-at-a-time", local);
        ManagedProcess first = HostClients.psqlSession("psql-first", local, "SELECT pg_sleep(20)", sys.workDir().resolve("logs"));
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                assertThat(E2eFixture.events(sys, ns, "one-at-a-time")).anySatisfy(e -> assertThat(e.getReason()).isEqualTo("SessionOpened")));

        // when
        ManagedProcess second = HostClients.psqlSession("psql-second", local, "SELECT 1", sys.workDir().resolve("logs"));

        // then
        assertThat(second.awaitExit(Duration.ofSeconds(20))).isNotZero();
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(event(sys, ns, "one-at-a-time", "SessionDenied").getNote())
                        .contains("already has its maximum of 1 sessions").contains("user=alice"));
        first.close();
    }

    @Test
    @DisplayName("a forward re-applied after its notAfter is expired at once and never reactivated")
    void reappliedAfterNotAfter(TestNamespace ns) {
        // given
        E2eFixture.web(sys, ns, "web-0", "gitops page");
        String past = Instant.now().minus(Duration.ofMinutes(5)).truncatedTo(ChronoUnit.SECONDS).toString();

        // when
        apply(sys, Identity.ALICE, ns, E2eFixture.forwardYaml("gitops", "web-0", HTTP_PORT, "1h", "  notAfter: \"" + past + "\"\n"));

        // then
        await().atMost(Duration.ofSeconds(15)).until(() -> get(sys, ns, "gitops") == null);
        assertThat(E2eFixture.events(sys, ns, "gitops")).extracting(e -> e.getReason()).containsExactly("Expired");
        assertThat(sys.cluster().admin().pods().inNamespace(ns.name()).withName("web-0").get().getSpec().getEphemeralContainers())
                .isEmpty();
    }

    @Test
    @DisplayName("a live psql session survives an operator restart (same connection, same backend), new sessions work, expiry is on time")
    void operatorRestart(TestNamespace ns) {
        // given: an open psql prompt through the forward (the relay runs as its own process, as the chart installs it)
        postgres(sys, ns, "db-0");
        PortForward pf = activeForward(sys, ns, "steady", "db-0", POSTGRES_PORT, "90s", null);
        Instant expiresAt = Instant.parse(pf.getStatus().getExpiresAt());
        int local = FreePorts.next();
        ManagedProcess cli = connected(sys, Identity.ALICE, ns, "steady", local);
        ManagedProcess prompt = HostClients.psqlInteractive("psql-prompt", local, sys.workDir().resolve("logs"));
        prompt.sendLine("SELECT 'before:' || pg_backend_pid();");
        String backend = E2eFixture.afterMarker(prompt, "before:");
        long links = E2eFixture.agentLinks(sys, ns, "steady");

        // when
        sys.restartOperator();

        // then: the same connection answers, from the same server process, and nothing reconnected
        prompt.sendLine("SELECT 'after:' || pg_backend_pid();");
        assertThat(E2eFixture.afterMarker(prompt, "after:")).isEqualTo(backend);
        assertThat(prompt.isAlive()).isTrue();
        int again = FreePorts.next();
        connected(sys, Identity.ALICE, ns, "steady", again);
        assertThat(psql(again, "SELECT 'new'")).isEqualTo("new");
        assertThat(E2eFixture.agentLinks(sys, ns, "steady")).as("the agent kept its relay connections").isEqualTo(links);
        // and the operator that started after the forward still ends it on time, cutting the live prompt
        await().atMost(Duration.ofSeconds(100)).until(() -> get(sys, ns, "steady") == null);
        assertThat(Duration.between(expiresAt, Instant.now())).isLessThan(Duration.ofSeconds(2));
        prompt.sendLine("SELECT 'expired';");
        assertThat(prompt.awaitExit(Duration.ofSeconds(10))).isNotZero();
        cli.close();
    }

    @Test
    @DisplayName("an agent the kernel kills is replaced within seconds, an Event says why, and psql works again through the same connect")
    void killedAgentIsReplaced(TestNamespace ns) {
        // given
        postgres(sys, ns, "db-0");
        activeForward(sys, ns, "sturdy", "db-0", POSTGRES_PORT, "10m", null);
        int local = FreePorts.next();
        ManagedProcess cli = connected(sys, Identity.ALICE, ns, "sturdy", local);
        assertThat(psql(local, "SELECT 'before'")).isEqualTo("before");
        ContainerStatus first = E2eFixture.runningAgent(sys, ns, "db-0");

        // when: SIGKILL, as the OOM killer would
        ProcessHandle agent = ProcessHandle.of(NodeCgroups.firstPid(first.getContainerID())).orElseThrow();
        assertThat(agent.destroyForcibly()).isTrue();

        // then
        String replacement = first.getName() + "-1";
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(event(sys, ns, "sturdy", "AgentReplaced").getNote())
                .contains("agent " + first.getName() + " ended before its forward (exit code 137")
                .contains("injected " + replacement + " (replacement 1 of 3)"));
        await().atMost(Duration.ofSeconds(30)).until(() -> get(sys, ns, "sturdy").getStatus().getAgent().getContainer()
                .equals(replacement) && E2eFixture.agentLinks(sys, ns, "sturdy") >= 2L * E2eFixture.RELAY_REPLICAS);
        assertThat(psql(local, "SELECT 'after'")).isEqualTo("after");
        assertThat(cli.isAlive()).as("porthole connect kept its listener").isTrue();
    }

    @Test
    @DisplayName("a forward a tightened policy rejects (its agent exits) and a relaxed one allows again gets a new agent and works")
    void rejectedThenAllowedGetsNewAgent(TestNamespace ns) {
        // given
        postgres(sys, ns, "db-0");
        activeForward(sys, ns, "flip", "db-0", POSTGRES_PORT, "10m", null);
        ManagedProcess before = connected(sys, Identity.ALICE, ns, "flip", FreePorts.next());
        String policy = "flip-" + ns.name();
        try {
            // when: a policy caps forwards at 5m
            apply(sys, Identity.ADMIN, ns, policyYaml(policy, ns, "5m"));

            // then it is rejected: the connected client is told so (not "revoked": the forward still exists), and the
            // agent, told so by the relay, exits
            await().atMost(Duration.ofSeconds(20)).until(() -> get(sys, ns, "flip").getStatus().getPhase() == Phase.Rejected);
            assertThat(before.awaitExit(Duration.ofSeconds(10))).isEqualTo(ConnectCommand.EXIT_REJECTED);
            assertThat(before.stderr()).contains("was rejected: ttl 10m exceeds the policy maximum of 5m");
            ContainerStateTerminated ended = await().atMost(Duration.ofSeconds(20)).until(
                    () -> E2eFixture.agentStatus(sys, ns, "db-0").map(st -> st.getState().getTerminated()).orElse(null),
                    t -> t != null);
            assertThat(ended.getExitCode()).isZero();

            // when the policy is relaxed
            java.time.Instant relaxed = java.time.Instant.now();
            apply(sys, Identity.ADMIN, ns, policyYaml(policy, ns, "1h"));

            // then a new agent serves it
            PortForward again = await().atMost(Duration.ofSeconds(30)).until(() -> get(sys, ns, "flip"),
                    f -> f.getStatus().getPhase() == Phase.Active && f.getStatus().getConditions().stream()
                            .anyMatch(c -> "AgentConnected".equals(c.getType()) && "True".equals(c.getStatus())));
            assertThat(again.getStatus().getAgent().getContainer()).endsWith("-1");
            for (int replica = 0; replica < E2eFixture.RELAY_REPLICAS; replica++) {
                E2eFixture.awaitLinkedSince(sys, ns, "flip", replica, relaxed); // the new agent, on every replica
            }
            assertThat(event(sys, ns, "flip", "AgentReplaced").getNote()).contains("exit code 0");
            int local = FreePorts.next();
            connected(sys, Identity.ALICE, ns, "flip", local);
            assertThat(psql(local, "SELECT 'allowed again'")).isEqualTo("allowed again");
        } finally {
            sys.cluster().kubectl(Identity.ADMIN, "delete", "portforwardpolicy", policy, "--ignore-not-found");
        }
    }

    private static String policyYaml(String name, TestNamespace ns, String maxTtl) {
        return """
                apiVersion: porthole.dev/v1alpha1
                kind: PortForwardPolicy
                metadata: { name: %s }
                spec:
                  namespaces: [%s]
                  maxTtl: %s
                """.formatted(name, ns.name(), maxTtl);
    }
}
