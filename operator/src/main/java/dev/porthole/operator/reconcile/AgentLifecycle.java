package dev.porthole.operator.reconcile;

import dev.porthole.api.v1alpha1.PortForward;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.EphemeralContainer;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * What a forward needs of its agent in the target pod now. An ephemeral container can be neither restarted nor
 * removed, so an agent that ended before its forward did (a crash, an OOM kill, or an exit on a revocation that a
 * relaxed policy then lifted) is replaced by a new container with the next generation's name, at most
 * {@link #MAX_REPLACEMENTS} times per pod; after that the forward fails with the last agent's end as its reason.
 * Generation 0 is {@code porthole-agent-<uid8>}, generation n is {@code porthole-agent-<uid8>-<n>}.
 */
public final class AgentLifecycle {
    /** Replacements per forward and pod: enough for a rare crash, bounded so a crash loop fills no pod spec. */
    public static final int MAX_REPLACEMENTS = 3;
    /**
     * An agent that exits cleanly this close to its forward's expiry left at its own deadline (its node's clock may
     * run ahead of the operator's): it is not replaced, the forward is about to be deleted anyway.
     */
    static final Duration DEADLINE_SLACK = Duration.ofSeconds(5);

    private AgentLifecycle() {
    }

    /** What to do about the agent. */
    public sealed interface Plan {
        /** The container to use (running, or to inject). */
        String container();
    }

    /** No agent of this forward in the pod yet: inject generation 0. */
    public record Inject(String container) implements Plan {
    }

    /** The current agent runs (or has not been reported yet): nothing to do. */
    public record Keep(String container) implements Plan {
    }

    /** The current agent ended early: inject the next generation. */
    public record Replace(String container, String ended, String why, int replacement) implements Plan {
    }

    /** The current agent ended early and the replacements are used up. */
    public record GiveUp(String container, String why) implements Plan {
    }

    public static String containerName(PortForward pf, int generation) {
        String base = AgentCapacity.AGENT_PREFIX + pf.getMetadata().getUid().substring(0, 8);
        return generation == 0 ? base : base + "-" + generation;
    }

    public static Plan plan(Pod pod, PortForward pf, Instant expiresAt, Instant now) {
        Optional<Integer> current = currentGeneration(pod, pf);
        if (current.isEmpty()) {
            return new Inject(containerName(pf, 0));
        }
        int generation = current.get();
        String name = containerName(pf, generation);
        Optional<ContainerStateTerminated> ended = terminated(pod, name);
        if (ended.isEmpty()) {
            return new Keep(name);
        }
        if (ended.get().getExitCode() != null && ended.get().getExitCode() == 0
                && !now.isBefore(expiresAt.minus(DEADLINE_SLACK))) {
            return new Keep(name);
        }
        String why = describe(name, ended.get());
        if (generation >= MAX_REPLACEMENTS) {
            return new GiveUp(name, why + "; its " + MAX_REPLACEMENTS + " replacements are used up");
        }
        return new Replace(containerName(pf, generation + 1), name, why, generation + 1);
    }

    /** The highest generation of this forward's agent in the pod, if any was injected. */
    static Optional<Integer> currentGeneration(Pod pod, PortForward pf) {
        List<EphemeralContainer> injected = pod.getSpec() == null || pod.getSpec().getEphemeralContainers() == null
                ? List.of() : pod.getSpec().getEphemeralContainers();
        String base = containerName(pf, 0);
        return injected.stream().map(EphemeralContainer::getName).filter(n -> n != null)
                .map(n -> generationOf(base, n)).flatMap(Optional::stream).max(Integer::compare);
    }

    private static Optional<Integer> generationOf(String base, String name) {
        if (name.equals(base)) {
            return Optional.of(0);
        }
        if (name.startsWith(base + "-")) {
            try {
                return Optional.of(Integer.parseInt(name.substring(base.length() + 1)));
            } catch (NumberFormatException e) {
                return Optional.empty(); // not a name this operator gives
            }
        }
        return Optional.empty();
    }

    private static Optional<ContainerStateTerminated> terminated(Pod pod, String name) {
        List<ContainerStatus> statuses = pod.getStatus() == null || pod.getStatus().getEphemeralContainerStatuses() == null
                ? List.of() : pod.getStatus().getEphemeralContainerStatuses();
        return statuses.stream().filter(s -> name.equals(s.getName())).findFirst()
                .map(ContainerStatus::getState).map(s -> s.getTerminated());
    }

    private static String describe(String name, ContainerStateTerminated t) {
        StringBuilder b = new StringBuilder("agent ").append(name).append(" ended before its forward (exit code ")
                .append(t.getExitCode());
        if (t.getReason() != null && !t.getReason().isBlank()) {
            b.append(", ").append(t.getReason());
        }
        if (t.getSignal() != null && t.getSignal() != 0) {
            b.append(", signal ").append(t.getSignal());
        }
        return b.append(')').toString();
    }
}
