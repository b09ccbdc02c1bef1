package dev.porthole.testcluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The cgroups (v1) the {@link RealNode}'s kubelet made for a container, read from the host: what a container
 * really costs and which processes it runs, measured by the kernel rather than reported by the container.
 */
public final class NodeCgroups {
    private NodeCgroups() {
    }

    /** The container's cgroup in one hierarchy ({@code memory}, {@code pids}, ...), for a status' containerID. */
    public static Path containerCgroup(String hierarchy, String containerID) {
        String id = containerID.replaceFirst("^containerd://", "");
        try (Stream<Path> walk = Files.walk(Path.of("/sys/fs/cgroup", hierarchy, NodeConfigs.CGROUP_ROOT.substring(1)))) {
            return walk.filter(p -> p.getFileName().toString().equals(id)).findFirst()
                    .orElseThrow(() -> new IllegalStateException("no " + hierarchy + " cgroup for container " + id));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The host pid of the container's first process (its entrypoint, as the runtime started it). */
    public static long firstPid(String containerID) {
        return Long.parseLong(read(containerCgroup("pids", containerID).resolve("cgroup.procs")).lines().findFirst()
                .orElseThrow(() -> new IllegalStateException("no process in container " + containerID)).strip());
    }

    /** The container's memory as its memory cgroup counts it. */
    public static Memory memory(String containerID) {
        Path cgroup = containerCgroup("memory", containerID);
        Map<String, Long> stat = new HashMap<>();
        read(cgroup.resolve("memory.stat")).lines().map(l -> l.split(" ")).filter(f -> f.length == 2)
                .forEach(f -> stat.put(f[0], Long.parseLong(f[1])));
        return new Memory(Long.parseLong(read(cgroup.resolve("memory.usage_in_bytes")).strip()),
                Long.parseLong(read(cgroup.resolve("memory.max_usage_in_bytes")).strip()),
                stat.getOrDefault("total_rss", 0L), stat.getOrDefault("total_inactive_file", 0L));
    }

    /**
     * One reading of a memory cgroup: {@code usage} counts anonymous memory and every page-cache page charged to it
     * (files it read first, such as its image's libraries), {@code peak} is the highest usage so far.
     */
    public record Memory(long usage, long peak, long rss, long inactiveFile) {
        /** What the kubelet reports and evicts on (and {@code kubectl top} shows): usage less reclaimable file cache. */
        public long workingSet() {
            return Math.max(0, usage - inactiveFile);
        }

        @Override
        public String toString() {
            return "working set %d KiB (usage %d KiB, peak %d KiB, rss %d KiB)".formatted(workingSet() / 1024,
                    usage / 1024, peak / 1024, rss / 1024);
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
