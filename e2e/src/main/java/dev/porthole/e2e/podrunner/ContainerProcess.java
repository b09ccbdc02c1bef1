package dev.porthole.e2e.podrunner;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One container's process: started in its sandbox directory (working directory, {@code stdout.log},
 * {@code stderr.log}, {@code command.txt}) with exactly the given environment (nothing inherited from
 * the caller), inside the pod's network namespace when it has one. {@code ip netns exec} replaces itself
 * with the command, so {@link #pid()} is the container's own process.
 */
final class ContainerProcess {
    private final Process process;

    private ContainerProcess(Process process) {
        this.process = process;
    }

    static ContainerProcess start(List<String> commandLine, Map<String, String> env, Path sandbox, PodNetwork network) {
        try {
            Files.createDirectories(sandbox);
            List<String> command = network.inside(commandLine);
            Files.writeString(sandbox.resolve("command.txt"), String.join(" ", command) + "\n");
            ProcessBuilder builder = new ProcessBuilder(command)
                    .directory(sandbox.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(sandbox.resolve("stdout.log").toFile()))
                    .redirectError(ProcessBuilder.Redirect.appendTo(sandbox.resolve("stderr.log").toFile()));
            builder.environment().clear();
            builder.environment().put("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
            builder.environment().put("HOME", sandbox.toString());
            builder.environment().putAll(env);
            return new ContainerProcess(builder.start());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + commandLine + ": " + e.getMessage(), e);
        }
    }

    long pid() {
        return process.pid();
    }

    /** Completes with the exit code when the process ends (128 + signal when a signal ended it). */
    CompletableFuture<Integer> exit() {
        return process.onExit().thenApply(Process::exitValue);
    }

    /** SIGTERM to the process and its descendants; SIGKILL to what still lives after {@code grace}. */
    void stop(Duration grace) {
        List<ProcessHandle> descendants = process.descendants().toList();
        process.destroy();
        descendants.forEach(ProcessHandle::destroy);
        try {
            if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        descendants.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
    }
}
