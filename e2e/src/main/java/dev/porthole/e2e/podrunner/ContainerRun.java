package dev.porthole.e2e.podrunner;

import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What the runner knows about one container of a pod: waiting (its configuration cannot be built yet),
 * running (with a process, or without one for an image the runner does not know), or terminated.
 * Immutable; the runner replaces it on every change.
 */
record ContainerRun(String name, String image, boolean ephemeral, State state, String reason, String message,
                    Instant startedAt, Instant finishedAt, Integer exitCode, OptionalLong pid) {

    enum State { WAITING, RUNNING, TERMINATED }

    static ContainerRun waiting(String name, String image, boolean ephemeral, String reason, String message) {
        return new ContainerRun(name, image, ephemeral, State.WAITING, reason, message, null, null, null, OptionalLong.empty());
    }

    static ContainerRun running(String name, String image, boolean ephemeral, Instant startedAt, OptionalLong pid) {
        return new ContainerRun(name, image, ephemeral, State.RUNNING, null, null, startedAt, null, null, pid);
    }

    ContainerRun terminated(int code, Instant at) {
        return new ContainerRun(name, image, ephemeral, State.TERMINATED, code == 0 ? "Completed" : "Error", null,
                startedAt, at, code, pid);
    }

    boolean isRunning() {
        return state == State.RUNNING;
    }

    /** A container ID in the kubelet's {@code <runtime>://<id>} form: the process ID, or none. */
    Optional<String> containerId() {
        if (state == State.WAITING) {
            return Optional.empty();
        }
        return Optional.of("porthole-local://" + (pid.isPresent() ? "pid-" + pid.getAsLong() : "no-process-" + name));
    }
}
