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
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * kube-controller-manager with the garbage collector and namespace controllers, so deleting an owner
 * deletes what it owns and deleting a namespace empties it, as in a real cluster.
 */
final class ControllerManagerProcess implements AutoCloseable {
    private static final String GC_SYNCED = "all resource monitors have synced";

    private final Process process;
    private final CountDownLatch gcSynced = new CountDownLatch(1);

    private ControllerManagerProcess(Process process, Path logFile) {
        this.process = process;
        Thread pump = new Thread(() -> pumpLog(logFile), "kube-controller-manager-log");
        pump.setDaemon(true);
        pump.start();
    }

    static ControllerManagerProcess start(Path binary, Path kubeconfig, Path logFile) {
        try {
            Process p = new ProcessBuilder(List.of(binary.toString(),
                    "--kubeconfig=" + kubeconfig,
                    "--controllers=garbagecollector,namespace",
                    "--leader-elect=false",
                    "--use-service-account-credentials=false",
                    "--secure-port=0",
                    "--concurrent-gc-syncs=10",
                    "-v=2"))
                    .redirectErrorStream(true)
                    .start();
            return new ControllerManagerProcess(p, logFile);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void pumpLog(Path logFile) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
             Writer out = Files.newBufferedWriter(logFile)) {
            String line;
            while ((line = in.readLine()) != null) {
                out.write(line);
                out.write('\n');
                out.flush();
                if (line.contains(GC_SYNCED)) {
                    gcSynced.countDown();
                }
            }
        } catch (IOException e) {
            // the process ended; its log ends here
        }
    }

    void awaitGarbageCollectorSynced(Duration timeout) {
        try {
            if (!gcSynced.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("kube-controller-manager's garbage collector did not sync within "
                        + timeout + (process.isAlive() ? "" : " (it exited with " + process.exitValue() + ")"));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    long pid() {
        return process.pid();
    }

    @Override
    public void close() {
        Processes.stop(process);
    }
}
