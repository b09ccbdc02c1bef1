package dev.porthole.testcluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the local cluster started, recorded per run, so that a later run ends what a killed one left and nothing
 * else: not a {@code kubectl} a user started from the cached binaries, not a cluster another live run owns. Each run
 * (a JVM, named by its pid and start time) has one file in {@code runs/} beside the cached binaries with a line per process it started: pid,
 * start time in milliseconds, command. A process is only ended when its run is gone and the pid still names the
 * process that was recorded (same start time), so a reused pid is safe.
 */
final class ProcessLedger {
    private static final Logger log = LoggerFactory.getLogger(ProcessLedger.class);
    /** The machine's ledger, beside the cached binaries. */
    static final ProcessLedger MACHINE = new ProcessLedger(ControlPlaneBinaries.cacheRoot().resolve("runs"));

    private final Path dir;

    ProcessLedger(Path dir) {
        this.dir = dir;
    }

    /** Records a process this run started. */
    synchronized void record(ProcessHandle process) {
        Optional<Instant> started = process.info().startInstant();
        if (started.isEmpty()) {
            return; // already gone: nothing to reap later
        }
        String line = process.pid() + " " + started.get().toEpochMilli() + " " + process.info().command().orElse("?") + "\n";
        try {
            Files.createDirectories(dir);
            Files.writeString(runFile(ProcessHandle.current()), line, StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot record process " + process.pid() + " in " + dir, e);
        }
    }

    /** Ends every recorded process of runs that are gone and forgets those runs; returns how many processes it ended. */
    synchronized int reapDeadRuns() {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        List<ProcessHandle> leftovers = new ArrayList<>();
        try (DirectoryStream<Path> runs = Files.newDirectoryStream(dir, "*.run")) {
            for (Path run : runs) {
                if (isAlive(run.getFileName().toString().replace(".run", ""))) {
                    continue;
                }
                for (String line : Files.readAllLines(run)) {
                    String[] f = line.split(" ", 3);
                    if (f.length == 3) {
                        sameProcess(Long.parseLong(f[0]), Long.parseLong(f[1])).ifPresent(p -> {
                            log.warn("ending a process an earlier, killed run left: pid={} command={}", p.pid(), f[2]);
                            leftovers.add(p);
                        });
                    }
                }
                Files.delete(run);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the process ledger " + dir, e);
        }
        leftovers.forEach(ProcessHandle::destroyForcibly);
        for (ProcessHandle p : leftovers) {
            p.onExit().orTimeout(Duration.ofSeconds(10).toMillis(), TimeUnit.MILLISECONDS).exceptionally(e -> null).join();
        }
        return leftovers.size();
    }

    private Path runFile(ProcessHandle jvm) {
        return dir.resolve(jvm.pid() + "-" + jvm.info().startInstant().map(Instant::toEpochMilli).orElse(0L) + ".run");
    }

    /** {@code pid-startMillis} of a run: alive when that pid still runs and started then. */
    private static boolean isAlive(String run) {
        String[] f = run.split("-", 2);
        try {
            return sameProcess(Long.parseLong(f[0]), Long.parseLong(f[1])).isPresent();
        } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
            return false; // not a name this class writes: treat as a dead run
        }
    }

    private static Optional<ProcessHandle> sameProcess(long pid, long startMillis) {
        return ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
                .filter(p -> p.info().startInstant().map(Instant::toEpochMilli).map(s -> s == startMillis).orElse(false));
    }
}
