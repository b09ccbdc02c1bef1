package dev.porthole.testcluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The node's cgroups: the root the kubelet puts every pod under ({@link NodeConfigs#CGROUP_ROOT}), made in each
 * v1 hierarchy before the kubelet starts, and removed with containerd's {@code k8s.io} once empty, deepest first
 * (a cgroup directory can only be removed when no process is in it).
 */
final class CgroupCleanup {
    private static final List<String> NODE_TREES = List.of(NodeConfigs.CGROUP_ROOT.substring(1), "k8s.io");

    private CgroupCleanup() {
    }

    /** Makes the kubelet's cgroup root in every hierarchy; a new cpuset gets its parent's CPUs and memory nodes. */
    static void createRoot() throws IOException {
        try (Stream<Path> hierarchies = Files.list(Path.of("/sys/fs/cgroup"))) {
            for (Path h : hierarchies.filter(h -> Files.exists(h.resolve("cgroup.procs"))).toList()) {
                Path root = Files.createDirectories(h.resolve(NodeConfigs.CGROUP_ROOT.substring(1)));
                for (String inherited : List.of("cpuset.cpus", "cpuset.mems")) {
                    if (Files.exists(h.resolve(inherited))) {
                        Files.writeString(root.resolve(inherited), Files.readString(h.resolve(inherited)).strip());
                    }
                }
            }
        }
    }

    /** Every process still in the node's cgroup root: a container whose shim was killed would otherwise live on. */
    static void killRemaining() throws IOException {
        Path procs = Path.of("/sys/fs/cgroup/pids").resolve(NodeConfigs.CGROUP_ROOT.substring(1));
        if (!Files.isDirectory(procs)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(procs)) {
            for (Path f : walk.filter(p -> p.getFileName().toString().equals("cgroup.procs")).toList()) {
                for (String pid : Files.readAllLines(f)) {
                    if (!pid.isBlank()) {
                        ProcessHandle.of(Long.parseLong(pid.strip())).ifPresent(ProcessHandle::destroyForcibly);
                    }
                }
            }
        }
    }

    static void removeEmpty() throws IOException {
        Path root = Path.of("/sys/fs/cgroup");
        if (!Files.isDirectory(root)) {
            return;
        }
        try (Stream<Path> hierarchies = Files.list(root)) {
            for (Path h : hierarchies.toList()) {
                for (String tree : NODE_TREES) {
                    Path top = h.resolve(tree);
                    if (Files.isDirectory(top)) {
                        removeTree(top);
                    }
                }
            }
        }
    }

    private static void removeTree(Path top) throws IOException {
        List<Path> dirs;
        try (Stream<Path> walk = Files.walk(top)) {
            dirs = walk.filter(Files::isDirectory).sorted(Comparator.reverseOrder()).toList();
        }
        for (Path d : dirs) {
            HostCommand.tryRun("rmdir", d.toString());
        }
    }
}
