package dev.porthole.e2e.podrunner;

import java.time.Instant;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A pod admitted to the runner's node: its network, start time and its containers' runs, in spec order.
 * Changed only on the runner's event thread; read by other threads through the runner's lookups.
 */
final class LocalPod {
    private final String namespace;
    private final String name;
    private final String uid;
    private final PodNetwork network;
    private final Instant startTime;
    private final Map<String, ContainerRun> containers = new LinkedHashMap<>();
    private final Map<String, ContainerRun> ephemeralContainers = new LinkedHashMap<>();
    private final Map<String, ContainerProcess> processes = new LinkedHashMap<>();
    private boolean changed = true;

    LocalPod(String namespace, String name, String uid, PodNetwork network, Instant startTime) {
        this.namespace = namespace;
        this.name = name;
        this.uid = uid;
        this.network = network;
        this.startTime = startTime;
    }

    String namespace() {
        return namespace;
    }

    String name() {
        return name;
    }

    String uid() {
        return uid;
    }

    PodNetwork network() {
        return network;
    }

    Instant startTime() {
        return startTime;
    }

    synchronized Collection<ContainerRun> containers() {
        return java.util.List.copyOf(containers.values());
    }

    synchronized Collection<ContainerRun> ephemeralContainers() {
        return java.util.List.copyOf(ephemeralContainers.values());
    }

    synchronized Optional<ContainerRun> run(String container) {
        ContainerRun run = containers.get(container);
        return Optional.ofNullable(run != null ? run : ephemeralContainers.get(container));
    }

    synchronized void update(ContainerRun run) {
        (run.ephemeral() ? ephemeralContainers : containers).put(run.name(), run);
        changed = true;
    }

    synchronized void attach(String container, ContainerProcess process) {
        processes.put(container, process);
    }

    synchronized Map<String, ContainerProcess> processes() {
        return Map.copyOf(processes);
    }

    synchronized void detach(String container) {
        processes.remove(container);
    }

    /** Whether a status write is due, and clears the flag. */
    synchronized boolean takeChanged() {
        boolean was = changed;
        changed = false;
        return was;
    }
}
