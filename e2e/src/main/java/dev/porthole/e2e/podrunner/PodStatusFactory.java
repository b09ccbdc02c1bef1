package dev.porthole.e2e.podrunner;

import io.fabric8.kubernetes.api.model.ContainerState;
import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodIP;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The pod status the kubelet would report for what the runner knows: phase, conditions, pod and host
 * IP, and one status per container and ephemeral container. A condition keeps its
 * {@code lastTransitionTime} while its status does not change. Pure, so it has its own unit test.
 *
 * <p>Phase: Succeeded or Failed when every regular container terminated (Failed if one exited non-zero),
 * Running when one runs, else Pending. Ready and ContainersReady: every regular container runs (ephemeral
 * containers never count and are never ready, as in Kubernetes). Containers are never restarted.
 */
final class PodStatusFactory {

    private PodStatusFactory() {
    }

    static PodStatus build(PodStatus previous, LocalPod pod, String hostIp, Instant now) {
        Collection<ContainerRun> regular = pod.containers();
        boolean allRunning = !regular.isEmpty() && regular.stream().allMatch(ContainerRun::isRunning);
        boolean allTerminated = !regular.isEmpty()
                && regular.stream().allMatch(c -> c.state() == ContainerRun.State.TERMINATED);
        String phase;
        if (allTerminated) {
            phase = regular.stream().allMatch(c -> c.exitCode() == 0) ? "Succeeded" : "Failed";
        } else if (regular.stream().anyMatch(ContainerRun::isRunning)) {
            phase = "Running";
        } else {
            phase = "Pending";
        }
        List<PodCondition> conditions = List.of(
                condition(previous, "PodScheduled", true, now),
                condition(previous, "Initialized", true, now),
                condition(previous, "ContainersReady", allRunning, now),
                condition(previous, "Ready", allRunning, now));
        return new PodStatusBuilder()
                .withPhase(phase)
                .withConditions(conditions)
                .withHostIP(hostIp)
                .withHostIPs(new io.fabric8.kubernetes.api.model.HostIP(hostIp))
                .withPodIP(pod.network().podIp())
                .withPodIPs(new PodIP(pod.network().podIp()))
                .withStartTime(pod.startTime().toString())
                .withContainerStatuses(statuses(pod.containers()))
                .withEphemeralContainerStatuses(statuses(pod.ephemeralContainers()))
                .build();
    }

    private static List<ContainerStatus> statuses(Collection<ContainerRun> runs) {
        List<ContainerStatus> statuses = new ArrayList<>();
        for (ContainerRun run : runs) {
            statuses.add(new ContainerStatusBuilder()
                    .withName(run.name())
                    .withImage(run.image())
                    .withImageID(run.image())
                    .withContainerID(run.containerId().orElse(null))
                    .withReady(!run.ephemeral() && run.isRunning())
                    .withStarted(run.isRunning())
                    .withRestartCount(0)
                    .withState(state(run))
                    .build());
        }
        return statuses;
    }

    private static ContainerState state(ContainerRun run) {
        return switch (run.state()) {
            case WAITING -> new ContainerStateBuilder().withNewWaiting()
                    .withReason(run.reason()).withMessage(run.message()).endWaiting().build();
            case RUNNING -> new ContainerStateBuilder().withNewRunning()
                    .withStartedAt(run.startedAt().toString()).endRunning().build();
            case TERMINATED -> new ContainerStateBuilder().withNewTerminated()
                    .withExitCode(run.exitCode()).withReason(run.reason())
                    .withStartedAt(run.startedAt().toString()).withFinishedAt(run.finishedAt().toString())
                    .withContainerID(run.containerId().orElse(null)).endTerminated().build();
        };
    }

    private static PodCondition condition(PodStatus previous, String type, boolean value, Instant now) {
        String status = value ? "True" : "False";
        String since = now.toString();
        if (previous != null && previous.getConditions() != null) {
            for (PodCondition old : previous.getConditions()) {
                if (type.equals(old.getType()) && status.equals(old.getStatus()) && old.getLastTransitionTime() != null) {
                    since = old.getLastTransitionTime();
                }
            }
        }
        return new PodConditionBuilder().withType(type).withStatus(status).withLastTransitionTime(since).build();
    }
}
