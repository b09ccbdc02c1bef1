package dev.porthole.testcluster;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Finds the processes of one local node by its directory, which every one of them names on its command line
 * (containerd's config, the shims' socket address, the kubelet's root): so only that node's processes are
 * ended, never another containerd or kubelet on the machine.
 */
final class NodeProcesses {
    private NodeProcesses() {
    }

    static List<ProcessHandle> under(Path nodeDir) {
        String marker = nodeDir.toAbsolutePath().toString() + "/";
        return ProcessHandle.allProcesses()
                .filter(p -> p.pid() != ProcessHandle.current().pid())
                .filter(p -> p.info().arguments().map(args -> String.join(" ", args).contains(marker)).orElse(false))
                .toList();
    }

    /** SIGKILL to each, then waits up to 10 s for them to be gone. */
    static int endAllUnder(Path nodeDir) {
        List<ProcessHandle> found = under(nodeDir);
        found.forEach(ProcessHandle::destroyForcibly);
        for (ProcessHandle p : found) {
            p.onExit().orTimeout(Duration.ofSeconds(10).toMillis(), TimeUnit.MILLISECONDS).exceptionally(e -> null).join();
        }
        return found.size();
    }
}
