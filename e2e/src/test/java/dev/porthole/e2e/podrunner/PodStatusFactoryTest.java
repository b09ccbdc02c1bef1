package dev.porthole.e2e.podrunner;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodStatus;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class PodStatusFactoryTest {
    private static final Instant T0 = Instant.parse("2026-11-25T14:00:00Z");
    private static final Instant T1 = Instant.parse("2026-11-25T14:00:10Z");

    private final LocalPod pod = new LocalPod("shop", "web-0", "uid-1",
            new PodNetwork(Optional.of("ph-0123456789"), "10.244.0.2"), T0);

    @Test
    @DisplayName("a pod whose containers all run is Running and Ready, with pod and host IP")
    void runningPod() {
        // given
        pod.update(ContainerRun.running("app", "example/app:1", false, T0, OptionalLong.empty()));

        // when
        PodStatus status = PodStatusFactory.build(null, pod, "10.244.0.1", T0);

        // then
        assertThat(status.getPhase()).isEqualTo("Running");
        assertThat(status.getPodIP()).isEqualTo("10.244.0.2");
        assertThat(status.getHostIP()).isEqualTo("10.244.0.1");
        assertThat(status.getConditions()).extracting(PodCondition::getType, PodCondition::getStatus)
                .contains(org.assertj.core.groups.Tuple.tuple("Ready", "True"), org.assertj.core.groups.Tuple.tuple("ContainersReady", "True"));
        assertThat(status.getContainerStatuses()).singleElement().satisfies(s -> {
            assertThat(s.getReady()).isTrue();
            assertThat(s.getState().getRunning().getStartedAt()).isEqualTo(T0.toString());
            assertThat(s.getContainerID()).isEqualTo("porthole-local://no-process-app");
        });
    }

    @Test
    @DisplayName("an ephemeral container is reported running, then terminated with exit code, reason and finishedAt; it never makes the pod unready")
    void ephemeralContainerLifecycle() {
        // given
        pod.update(ContainerRun.running("app", "example/app:1", false, T0, OptionalLong.empty()));
        ContainerRun agent = ContainerRun.running("agent", "agent:1", true, T0, OptionalLong.of(4242));
        pod.update(agent);
        PodStatus running = PodStatusFactory.build(null, pod, "10.244.0.1", T0);

        // when
        pod.update(agent.terminated(0, T1));
        PodStatus ended = PodStatusFactory.build(running, pod, "10.244.0.1", T1);

        // then
        assertThat(running.getEphemeralContainerStatuses()).singleElement().satisfies(s -> {
            assertThat(s.getState().getRunning()).isNotNull();
            assertThat(s.getReady()).isFalse();
            assertThat(s.getContainerID()).isEqualTo("porthole-local://pid-4242");
        });
        assertThat(ended.getEphemeralContainerStatuses()).singleElement().satisfies(s -> {
            assertThat(s.getState().getTerminated().getExitCode()).isZero();
            assertThat(s.getState().getTerminated().getReason()).isEqualTo("Completed");
            assertThat(s.getState().getTerminated().getFinishedAt()).isEqualTo(T1.toString());
        });
        assertThat(ended.getPhase()).isEqualTo("Running");
        assertThat(ended.getConditions()).filteredOn(c -> c.getType().equals("Ready"))
                .singleElement().satisfies(c -> assertThat(c.getLastTransitionTime()).as("unchanged since T0").isEqualTo(T0.toString()));
    }

    @Test
    @DisplayName("a pod whose only container exited non-zero is Failed and not Ready; the condition's transition time moves")
    void failedPod() {
        // given
        ContainerRun app = ContainerRun.running("app", "img", false, T0, OptionalLong.of(7));
        pod.update(app);
        PodStatus before = PodStatusFactory.build(null, pod, "10.244.0.1", T0);

        // when
        pod.update(app.terminated(3, T1));
        PodStatus after = PodStatusFactory.build(before, pod, "10.244.0.1", T1);

        // then
        assertThat(after.getPhase()).isEqualTo("Failed");
        assertThat(after.getContainerStatuses().get(0).getState().getTerminated().getReason()).isEqualTo("Error");
        assertThat(after.getConditions()).filteredOn(c -> c.getType().equals("Ready")).singleElement().satisfies(c -> {
            assertThat(c.getStatus()).isEqualTo("False");
            assertThat(c.getLastTransitionTime()).isEqualTo(T1.toString());
        });
    }

    @Test
    @DisplayName("a container waiting for its configuration keeps the pod Pending, with the reason")
    void waitingContainer() {
        // given
        pod.update(ContainerRun.waiting("app", "img", false, "CreateContainerConfigError", "secret \"x\" not found"));

        // when
        PodStatus status = PodStatusFactory.build(null, pod, "10.244.0.1", T0);

        // then
        assertThat(status.getPhase()).isEqualTo("Pending");
        assertThat(status.getContainerStatuses().get(0).getState().getWaiting().getReason()).isEqualTo("CreateContainerConfigError");
        assertThat(status.getContainerStatuses().get(0).getContainerID()).isNull();
    }
}
