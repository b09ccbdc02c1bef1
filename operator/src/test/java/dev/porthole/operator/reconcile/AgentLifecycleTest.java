package dev.porthole.operator.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.api.v1alpha1.PortForward;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.EphemeralContainerBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class AgentLifecycleTest {
    private static final PortForward PF = forward("7f1a34e1-0000-4000-8000-000000000001");
    private static final String GEN0 = "porthole-agent-7f1a34e1";
    private static final Instant NOW = Instant.parse("2026-12-02T10:00:00Z");
    private static final Instant EXPIRES = NOW.plusSeconds(600);

    @Test
    @DisplayName("no agent of the forward in the pod: inject generation 0 (another forward's agent does not count)")
    void injectsFirstAgent() {
        Pod pod = pod(List.of("porthole-agent-0badc0de"), List.of(running("porthole-agent-0badc0de")));

        assertThat(AgentLifecycle.plan(pod, PF, EXPIRES, NOW)).isEqualTo(new AgentLifecycle.Inject(GEN0));
    }

    @Test
    @DisplayName("a running agent, or one the kubelet has not reported yet, is kept")
    void keepsRunningOrUnreported() {
        assertThat(AgentLifecycle.plan(pod(List.of(GEN0), List.of(running(GEN0))), PF, EXPIRES, NOW)).isEqualTo(new AgentLifecycle.Keep(GEN0));
        assertThat(AgentLifecycle.plan(pod(List.of(GEN0), List.of()), PF, EXPIRES, NOW)).isEqualTo(new AgentLifecycle.Keep(GEN0));
    }

    @Test
    @DisplayName("an agent that ended early is replaced by the next generation, with its end as the reason")
    void replacesEndedAgent() {
        Pod pod = pod(List.of(GEN0), List.of(terminated(GEN0, 137, "OOMKilled")));

        AgentLifecycle.Plan plan = AgentLifecycle.plan(pod, PF, EXPIRES, NOW);

        assertThat(plan).isInstanceOfSatisfying(AgentLifecycle.Replace.class, r -> {
            assertThat(r.container()).isEqualTo(GEN0 + "-1");
            assertThat(r.ended()).isEqualTo(GEN0);
            assertThat(r.replacement()).isEqualTo(1);
            assertThat(r.why()).isEqualTo("agent " + GEN0 + " ended before its forward (exit code 137, OOMKilled)");
        });
    }

    @Test
    @DisplayName("the newest generation decides: a running replacement is kept although older ones ended")
    void newestGenerationDecides() {
        Pod pod = pod(List.of(GEN0, GEN0 + "-1", GEN0 + "-2"),
                List.of(terminated(GEN0, 1, "Error"), terminated(GEN0 + "-1", 1, "Error"), running(GEN0 + "-2")));

        assertThat(AgentLifecycle.plan(pod, PF, EXPIRES, NOW)).isEqualTo(new AgentLifecycle.Keep(GEN0 + "-2"));
    }

    @Test
    @DisplayName("after the last replacement ended too, the forward gives up, saying why")
    void givesUpAfterMaxReplacements() {
        List<String> names = new ArrayList<>(List.of(GEN0));
        List<ContainerStatus> statuses = new ArrayList<>(List.of(terminated(GEN0, 1, "Error")));
        for (int g = 1; g <= AgentLifecycle.MAX_REPLACEMENTS; g++) {
            names.add(GEN0 + "-" + g);
            statuses.add(terminated(GEN0 + "-" + g, 2, "Error"));
        }

        AgentLifecycle.Plan plan = AgentLifecycle.plan(pod(names, statuses), PF, EXPIRES, NOW);

        assertThat(plan).isInstanceOfSatisfying(AgentLifecycle.GiveUp.class, g -> assertThat(g.why())
                .isEqualTo("agent " + GEN0 + "-3 ended before its forward (exit code 2, Error); its 3 replacements are used up"));
    }

    @Test
    @DisplayName("an agent that exited cleanly within seconds of the forward's expiry left at its deadline: it is kept, not replaced")
    void cleanExitAtDeadlineIsNotReplaced() {
        Pod pod = pod(List.of(GEN0), List.of(terminated(GEN0, 0, "Completed")));

        assertThat(AgentLifecycle.plan(pod, PF, NOW.plusSeconds(3), NOW)).isEqualTo(new AgentLifecycle.Keep(GEN0));
        assertThat(AgentLifecycle.plan(pod, PF, EXPIRES, NOW)).isInstanceOf(AgentLifecycle.Replace.class);
    }

    @Test
    @DisplayName("a container whose name only looks like a generation of this forward's agent is ignored")
    void ignoresForeignNames() {
        Pod pod = pod(List.of(GEN0 + "-x", "porthole-agent-7f1a34e10"), List.of());

        assertThat(AgentLifecycle.plan(pod, PF, EXPIRES, NOW)).isEqualTo(new AgentLifecycle.Inject(GEN0));
    }

    private static PortForward forward(String uid) {
        PortForward pf = new PortForward();
        pf.setMetadata(new ObjectMetaBuilder().withName("db").withNamespace("shop").withUid(uid).build());
        return pf;
    }

    private static Pod pod(List<String> agents, List<ContainerStatus> statuses) {
        return new PodBuilder().withNewMetadata().withName("db-0").endMetadata()
                .withNewSpec().withEphemeralContainers(agents.stream()
                        .map(n -> new EphemeralContainerBuilder().withName(n).build()).toList()).endSpec()
                .withNewStatus().withEphemeralContainerStatuses(statuses).endStatus().build();
    }

    private static ContainerStatus running(String name) {
        return new ContainerStatusBuilder().withName(name).withNewState().withNewRunning().endRunning().endState().build();
    }

    private static ContainerStatus terminated(String name, int exitCode, String reason) {
        return new ContainerStatusBuilder().withName(name).withNewState().withNewTerminated().withExitCode(exitCode)
                .withReason(reason).endTerminated().endState().build();
    }
}
