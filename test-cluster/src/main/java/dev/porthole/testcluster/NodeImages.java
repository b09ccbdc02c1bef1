package dev.porthole.testcluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The OCI images the node runs, built on this machine by scripts/build-images.sh from Debian packages and the
 * project's jars (no registry), listed in {@code $PORTHOLE_CACHE/images/images.txt} as {@code ref tar digest},
 * and imported into the node's containerd.
 */
public final class NodeImages {
    private static final Logger log = LoggerFactory.getLogger(NodeImages.class);
    public static final String PAUSE = "localhost/porthole/pause:1";
    public static final String COREDNS = "localhost/porthole/coredns:1";
    public static final String TOOLS = "localhost/porthole/tools:1";
    public static final String POSTGRES = "localhost/porthole/postgres:15";
    public static final String REDIS = "localhost/porthole/redis:7";
    public static final String AGENT = "ghcr.io/porthole-dev/porthole-agent:0.1.0";
    public static final String OPERATOR = "ghcr.io/porthole-dev/porthole-operator:0.1.0";

    private final Map<String, Path> tars;

    private NodeImages(Map<String, Path> tars) {
        this.tars = tars;
    }

    /**
     * Builds what is missing or stale (cached otherwise: a few seconds), then reads the list. The agent and operator
     * images are built only once their jars exist: a module earlier in the build than theirs runs the node without them.
     */
    public static NodeImages build(Path repoRoot) {
        Path script = repoRoot.resolve("scripts/build-images.sh");
        boolean jars = Files.isRegularFile(repoRoot.resolve("tunnel-sidecar/target/porthole-agent.jar"))
                && Files.isRegularFile(repoRoot.resolve("operator/target/porthole-operator.jar"));
        List<String> cmd = new java.util.ArrayList<>(List.of("bash", script.toString(), "--root", repoRoot.toString()));
        if (!jars) {
            cmd.addAll(List.of("--only", "pause,tools,postgres,redis,coredns"));
        }
        // a first build bootstraps Debian rootfs trees: minutes; later ones find everything cached
        HostCommand.Result r = HostCommand.tryRun(java.time.Duration.ofMinutes(20), cmd.toArray(String[]::new));
        if (r.exitCode() != 0) {
            throw new IllegalStateException("scripts/build-images.sh failed (" + r.exitCode() + "):\n" + r.output());
        }
        return read();
    }

    static NodeImages read() {
        Path list = ControlPlaneBinaries.cacheRoot().resolve("images").resolve("images.txt");
        try {
            Map<String, Path> tars = new LinkedHashMap<>();
            for (String line : Files.readAllLines(list)) {
                String[] f = line.strip().split("\\s+");
                if (f.length >= 2) {
                    tars.put(f[0], Path.of(f[1]));
                }
            }
            return new NodeImages(tars);
        } catch (IOException e) {
            throw new UncheckedIOException("no image list at " + list + ": run bash scripts/build-images.sh", e);
        }
    }

    public boolean has(String ref) {
        return tars.containsKey(ref);
    }

    void importInto(RealNode node) {
        for (String required : List.of(PAUSE, COREDNS)) {
            if (!has(required)) {
                throw new IllegalStateException("the node needs image " + required + ", which scripts/build-images.sh did not build");
            }
        }
        long t0 = System.nanoTime();
        for (Map.Entry<String, Path> image : tars.entrySet()) {
            HostCommand.run(node.ctr("images", "import", image.getValue().toString()));
        }
        log.info("imported {} images into the node in {} ms", tars.size(), (System.nanoTime() - t0) / 1_000_000);
    }
}
