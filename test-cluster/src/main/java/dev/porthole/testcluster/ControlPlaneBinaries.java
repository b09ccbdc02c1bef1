package dev.porthole.testcluster;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * Where scripts/setup-control-plane.sh put the binaries: {@code $PORTHOLE_CACHE/kube-api-test}
 * (default {@code ~/.cache/porthole/kube-api-test}), in the layout Fabric8's kube-api-test once read.
 */
public record ControlPlaneBinaries(Path kubeApiTestDir, String version) {

    public static ControlPlaneBinaries fromEnvironment() {
        return new ControlPlaneBinaries(cacheRoot().resolve("kube-api-test"), pinnedVersion());
    }

    /** {@code $PORTHOLE_CACHE}, default {@code ~/.cache/porthole}: what the setup scripts build, outside the work tree. */
    public static Path cacheRoot() {
        String cache = System.getenv("PORTHOLE_CACHE");
        return cache != null && !cache.isBlank()
                ? Path.of(cache)
                : Path.of(System.getProperty("user.home"), ".cache", "porthole");
    }

    public Path binary(String name) {
        return binDir().resolve(name);
    }

    /** The CoreDNS scripts/build-coredns.sh builds. */
    public Path coredns() {
        return cacheRoot().resolve("coredns").resolve("bin").resolve("coredns");
    }

    static String pinnedVersion() {
        try (InputStream in = ControlPlaneBinaries.class.getResourceAsStream("/porthole-test-cluster.properties")) {
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("kubernetes.version");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path binDir() {
        return kubeApiTestDir.resolve("k8s").resolve(version + "-linux-amd64");
    }

    public Path kubectl() {
        return binDir().resolve("kubectl");
    }

    public Path controllerManager() {
        return binDir().resolve("kube-controller-manager");
    }

    /** Fails with the command that fixes it when a binary is missing. */
    public void requirePresent() {
        for (String name : new String[] {"etcd", "kube-apiserver", "kubectl", "kube-controller-manager"}) {
            if (!Files.isExecutable(binDir().resolve(name))) {
                throw new IllegalStateException("Control plane binary " + binDir().resolve(name) + " is missing. "
                        + "Build it with: bash scripts/setup-control-plane.sh (takes a few minutes once, then cached)");
            }
        }
    }
}
