package dev.porthole.testcluster;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * One process of the local cluster (etcd, an API server, a controller, the kubelet, containerd), started from
 * this JVM and recorded in the {@link ProcessLedger} so a killed run's leftovers are ended by the next, with its
 * output copied to a log file. It remembers
 * the last lines, so a failure to start can say why without anyone opening the log.
 */
public final class ComponentProcess implements AutoCloseable {
    private static final int TAIL_LINES = 30;

    private final String name;
    private final Process process;
    private final Path logFile;
    private final Predicate<String> marker;
    private final CountDownLatch markerSeen = new CountDownLatch(1);
    private final Deque<String> tail = new ArrayDeque<>();

    private ComponentProcess(String name, Process process, Path logFile, Predicate<String> marker) {
        this.name = name;
        this.process = process;
        this.logFile = logFile;
        this.marker = marker;
        Thread pump = new Thread(this::pumpLog, name + "-log");
        pump.setDaemon(true);
        pump.start();
    }

    /** Starts {@code command}; {@code marker} is a log line {@link #awaitMarker} waits for (may be null). */
    public static ComponentProcess start(String name, List<String> command, Path logFile, Predicate<String> marker) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            ProcessLedger.MACHINE.record(p.toHandle());
            return new ComponentProcess(name, p, logFile, marker == null ? line -> false : marker);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + name + ": " + command.get(0), e);
        }
    }

    private void pumpLog() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
             Writer out = Files.newBufferedWriter(logFile)) {
            String line;
            while ((line = in.readLine()) != null) {
                out.write(line);
                out.write('\n');
                out.flush();
                synchronized (tail) {
                    tail.addLast(line);
                    if (tail.size() > TAIL_LINES) {
                        tail.removeFirst();
                    }
                }
                if (marker.test(line)) {
                    markerSeen.countDown();
                }
            }
        } catch (IOException e) {
            // the process ended; its log ends here
        }
    }

    /** Waits for the marker line; fails with the log's last lines if it does not come or the process exits. */
    public void awaitMarker(Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (!markerSeen.await(200, TimeUnit.MILLISECONDS)) {
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    throw failure(what + " within " + timeout);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** An exception saying {@code what} did not happen, with the process state and the end of its log. */
    public IllegalStateException failure(String what) {
        String state = process.isAlive() ? "still running" : "exited with " + process.exitValue();
        return new IllegalStateException(name + " did not " + what + " (" + state + "; log " + logFile + "):\n  "
                + String.join("\n  ", lastLines()));
    }

    public List<String> lastLines() {
        synchronized (tail) {
            return List.copyOf(tail);
        }
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public long pid() {
        return process.pid();
    }

    public Path logFile() {
        return logFile;
    }

    @Override
    public void close() {
        Processes.stop(process);
    }
}
