package dev.porthole.testcluster;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A process a test started on the host (porthole connect, psql, the e2e system's operator), its output in
 * files (so nothing blocks on a full pipe), ended with SIGTERM and then SIGKILL. Never a shell.
 */
public final class ManagedProcess implements AutoCloseable {
    private final List<Runnable> onClose = new CopyOnWriteArrayList<>();
    private final String name;
    private final Process process;
    private final Path stdout;
    private final Path stderr;

    private ManagedProcess(String name, Process process, Path stdout, Path stderr) {
        this.name = name;
        this.process = process;
        this.stdout = stdout;
        this.stderr = stderr;
    }

    public static ManagedProcess start(String name, List<String> command, Map<String, String> env, Path logDir) {
        try {
            Files.createDirectories(logDir);
            Path out = logDir.resolve(name + ".out");
            Path err = logDir.resolve(name + ".err");
            ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.PIPE);
            pb.environment().putAll(env);
            return new ManagedProcess(name, pb.start(), out, err);
        } catch (IOException e) {
            throw new UncheckedIOException("could not start " + name + ": " + command, e);
        }
    }

    public String stdout() {
        return read(stdout);
    }

    public String stderr() {
        return read(stderr);
    }

    public Process process() {
        return process;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public long pid() {
        return process.pid();
    }

    /** Writes a line to the process's stdin (an interactive client's next command). */
    public void sendLine(String line) {
        try {
            OutputStream in = process.getOutputStream();
            in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            in.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("could not write to " + name + "'s stdin", e);
        }
    }

    /** Waits until {@code condition} holds for stdout+stderr; fails with the output if the process dies first. */
    public String awaitOutput(Predicate<String> condition, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            String all = stdout() + stderr();
            if (condition.test(all)) {
                return all;
            }
            if (!process.isAlive()) {
                throw new IllegalStateException(name + " exited with " + process.exitValue() + ":\n" + all);
            }
            pause(50);
        }
        throw new IllegalStateException(name + " did not print what was expected within " + timeout + ":\n" + stdout() + stderr());
    }

    /** Waits for the process to end and returns its exit code. */
    public int awaitExit(Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException(name + " still runs after " + timeout + ":\n" + stdout() + stderr());
            }
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Runs {@code cleanup} once the process has ended through {@link #close()} (for example to remove its data). */
    public ManagedProcess whenClosed(Runnable cleanup) {
        onClose.add(cleanup);
        return this;
    }

    @Override
    public void close() {
        try {
            stop();
        } finally {
            onClose.forEach(Runnable::run);
            onClose.clear();
        }
    }

    private void stop() {
        if (!process.isAlive()) {
            return;
        }
        process.descendants().forEach(ProcessHandle::destroy);
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "";
        }
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis); // polling a file a child process writes; the condition is the caller's
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
