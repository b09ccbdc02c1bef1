package dev.porthole.testcluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A short command run on this machine (the node's ip, mount, ctr; a test's psql or curl): its output, and a clear
 * error when it fails or outlives its timeout.
 */
public final class HostCommand {
    private HostCommand() {
    }

    /** Runs {@code cmd}; throws with its output unless it exits 0. */
    static String run(String... cmd) {
        return run(Duration.ofSeconds(120), cmd);
    }

    /** Runs {@code cmd} for at most {@code timeout}; throws with its output unless it exits 0. */
    public static String run(Duration timeout, String... cmd) {
        Result r = tryRun(timeout, cmd);
        if (r.exitCode() != 0) {
            throw new IllegalStateException("`" + String.join(" ", cmd) + "` exited with " + r.exitCode() + ": " + r.output().strip());
        }
        return r.output();
    }

    static Result tryRun(String... cmd) {
        return tryRun(Duration.ofSeconds(120), cmd);
    }

    static Result tryRun(Duration timeout, String... cmd) {
        try {
            // output to a file, so the timeout holds even for a command that never closes its output
            java.nio.file.Path out = java.nio.file.Files.createTempFile("porthole-host-command", ".out");
            try {
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
                p.getOutputStream().close();
                if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.destroyForcibly();
                    throw new IllegalStateException("`" + String.join(" ", cmd) + "` did not finish within " + timeout);
                }
                return new Result(p.exitValue(), new String(java.nio.file.Files.readAllBytes(out), StandardCharsets.UTF_8));
            } finally {
                java.nio.file.Files.deleteIfExists(out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + cmd[0], e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static String[] concat(List<String> prefix, String... rest) {
        List<String> all = new ArrayList<>(prefix);
        all.addAll(List.of(rest));
        return all.toArray(String[]::new);
    }

    record Result(int exitCode, String output) {
    }
}
