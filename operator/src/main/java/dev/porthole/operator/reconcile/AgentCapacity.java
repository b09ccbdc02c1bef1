package dev.porthole.operator.reconcile;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.EphemeralContainer;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Counts the Porthole agents alive in a pod. An ephemeral container can never be removed from a pod, and
 * while it runs its memory counts against the pod; an agent is alive from its injection until its status
 * says it terminated (it exits at its forward's deadline).
 */
final class AgentCapacity {
    static final String AGENT_PREFIX = "porthole-agent-";

    private AgentCapacity() {
    }

    static long liveAgents(Pod pod) {
        List<EphemeralContainer> injected = pod.getSpec() == null || pod.getSpec().getEphemeralContainers() == null
                ? List.of() : pod.getSpec().getEphemeralContainers();
        Map<String, ContainerStatus> statuses = pod.getStatus() == null || pod.getStatus().getEphemeralContainerStatuses() == null
                ? Map.of() : pod.getStatus().getEphemeralContainerStatuses().stream()
                        .collect(Collectors.toMap(ContainerStatus::getName, Function.identity(), (a, b) -> a));
        return injected.stream()
                .filter(c -> c.getName() != null && c.getName().startsWith(AGENT_PREFIX))
                .filter(c -> !terminated(statuses.get(c.getName())))
                .count();
    }

    private static boolean terminated(ContainerStatus status) {
        return status != null && status.getState() != null && status.getState().getTerminated() != null;
    }
}
