package dev.porthole.testcluster;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends control plane processes left behind by a run that was killed before it could stop them. A
 * process counts as left behind when it runs one of our binaries and no JVM is its parent any more
 * (a killed JVM's children are re-parented to init), so a cluster another live JVM runs is untouched.
 */
final class StaleProcessReaper {
    private static final Logger log = LoggerFactory.getLogger(StaleProcessReaper.class);

    private StaleProcessReaper() {
    }

    static int reap(Path binDir) {
        String prefix = binDir.toAbsolutePath().toString();
        List<ProcessHandle> stale = ProcessHandle.allProcesses()
                .filter(p -> p.info().command().map(c -> c.startsWith(prefix)).orElse(false))
                .filter(p -> p.parent().map(parent -> !isJvm(parent)).orElse(true))
                .toList();
        for (ProcessHandle p : stale) {
            log.warn("ending control plane process left by an earlier run: pid={} command={}",
                    p.pid(), p.info().command().orElse("?"));
            p.destroyForcibly();
        }
        for (ProcessHandle p : stale) {
            p.onExit().orTimeout(Duration.ofSeconds(10).toMillis(), TimeUnit.MILLISECONDS).exceptionally(e -> null).join();
        }
        return stale.size();
    }

    private static boolean isJvm(ProcessHandle p) {
        return p.info().command().map(c -> c.endsWith("/java")).orElse(false);
    }
}
