package dev.porthole.testcluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The place a real node lives on this machine without changing the machine: its own network namespace (its
 * bridge, pods, kube-proxy's rules) and its own mount namespace (host sysctls the kubelet would rewrite are
 * shadowed; /var/log, /var/lib/kubelet, /var/lib/cni and /run/containerd are the node's own directories),
 * both kept alive by bind mounts on files in its directory. One veth link joins it to the host: the host end
 * ({@link #HOST_ADDRESS}) is where the API server listens for the node, the node end ({@link #NODE_ADDRESS}) is
 * the node's InternalIP, and one route on the host link sends pod traffic there. Nothing leaves this link and
 * loopback. {@link #close} undoes all of it; a run that was killed is undone by the next start.
 */
final class NodeHost implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NodeHost.class);
    static final String HOST_LINK = "porthole0";
    static final String HOST_ADDRESS = "10.200.0.1";
    static final String NODE_ADDRESS = "10.200.0.2";
    static final String POD_CIDR = "10.245.0.0/24";
    static final String POD_GATEWAY = "10.245.0.1";
    /** Files the kubelet writes at start (vm.overcommit_memory, kernel.panic, kernel.panic_on_oops). */
    private static final List<String> SHADOWED_SYSCTLS = List.of("vm/overcommit_memory", "kernel/panic", "kernel/panic_on_oops");
    /** Host paths the kubelet, CNI and containerd use whatever their configuration says; bound to the node's own dirs. */
    private static final List<String> PRIVATE_DIRS = List.of("/var/log", "/var/lib/kubelet", "/var/lib/cni", "/run/containerd",
            "/usr/libexec/kubernetes");
    /** Where the current node's directory is recorded, so a later run can undo a killed one. */
    private static final Path MARKER = ControlPlaneBinaries.cacheRoot().resolve("node").resolve("current");

    private final Path dir;
    private final NodeLock lock;
    private final List<Path> createdMountPoints = new ArrayList<>();
    private boolean closed;

    private NodeHost(Path dir, NodeLock lock) {
        this.dir = dir;
        this.lock = lock;
    }

    /** Waits until no other run holds the machine's node, undoes what a killed run left, and sets up this one. */
    static NodeHost create(Path dir) {
        NodeLock lock = NodeLock.acquire();
        NodeHost host;
        try {
            undoLeftovers();
            host = new NodeHost(dir.toAbsolutePath(), lock);
        } catch (RuntimeException e) {
            lock.close();
            throw e;
        }
        try {
            host.setUp();
            return host;
        } catch (RuntimeException e) {
            host.close();
            throw e;
        }
    }

    Path dir() {
        return dir;
    }

    /** The command prefix that runs a program inside the node's namespaces. */
    List<String> inside() {
        return List.of("nsenter", "--net=" + dir.resolve("ns/net"), "--mount=" + dir.resolve("ns/mnt"), "--");
    }

    private void setUp() {
        try {
            if (HostCommand.tryRun("ip", "link", "show", HOST_LINK).exitCode() == 0) {
                throw new IllegalStateException("the link " + HOST_LINK + " already exists and no earlier Porthole node claims it; "
                        + "remove it (ip link del " + HOST_LINK + ") if nothing else uses it");
            }
            String routes = HostCommand.run("ip", "-4", "route", "show");
            for (String net : List.of("10.200.0.", "10.245.0.", "10.96.")) {
                if (routes.contains(net)) {
                    throw new IllegalStateException("this machine already routes " + net + "x, which the local node would use:\n" + routes);
                }
            }
            ControlPlane.deleteRecursively(dir);
            for (String d : List.of("ns", "sysctl", "log", "kubelet-root", "cni-state", "containerd-run", "libexec")) {
                Files.createDirectories(dir.resolve(d));
            }
            Files.createDirectories(MARKER.getParent());
            Files.writeString(MARKER, dir.toString());
            Files.createFile(dir.resolve("ns/net"));
            Files.createFile(dir.resolve("ns/mnt"));
            HostCommand.run("unshare", "--net=" + dir.resolve("ns/net"), "--mount=" + dir.resolve("ns/mnt"),
                    "--propagation", "private", "true");
            shadowHostFiles();
            link();
            CgroupCleanup.createRoot();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void shadowHostFiles() throws IOException {
        List<String> binds = new ArrayList<>();
        for (String sysctl : SHADOWED_SYSCTLS) {
            Path host = Path.of("/proc/sys").resolve(sysctl);
            Path copy = dir.resolve("sysctl").resolve(sysctl.replace('/', '.'));
            Files.writeString(copy, Files.readString(host));
            binds.add("mount --bind " + copy + " " + host);
        }
        List<String> own = List.of("log", "kubelet-root", "cni-state", "containerd-run", "libexec");
        for (int i = 0; i < PRIVATE_DIRS.size(); i++) {
            Path target = Path.of(PRIVATE_DIRS.get(i));
            if (!Files.isDirectory(target)) {
                Files.createDirectories(target);
                createdMountPoints.add(target);
            }
            binds.add("mount --bind " + dir.resolve(own.get(i)) + " " + target);
        }
        HostCommand.run("nsenter", "--mount=" + dir.resolve("ns/mnt"), "sh", "-euc", String.join("\n", binds));
        Files.write(dir.resolve("created-mount-points"), createdMountPoints.stream().map(Path::toString).toList());
    }

    private void link() {
        List<String> in = List.of("nsenter", "--net=" + dir.resolve("ns/net"), "--");
        HostCommand.run(HostCommand.concat(in, "ip", "link", "set", "lo", "up"));
        HostCommand.run(HostCommand.concat(in, "ip", "link", "add", "eth0", "type", "veth", "peer", "name", HOST_LINK));
        HostCommand.run(HostCommand.concat(in, "ip", "link", "set", HOST_LINK, "netns", String.valueOf(ProcessHandle.current().pid())));
        HostCommand.run(HostCommand.concat(in, "ip", "addr", "add", NODE_ADDRESS + "/30", "dev", "eth0"));
        HostCommand.run(HostCommand.concat(in, "ip", "link", "set", "eth0", "up"));
        HostCommand.run(HostCommand.concat(in, "ip", "route", "add", "default", "via", HOST_ADDRESS));
        // the node routes between its link and its pods' bridge; this sysctl belongs to its namespace alone
        HostCommand.run(HostCommand.concat(in, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"));
        HostCommand.run("ip", "addr", "add", HOST_ADDRESS + "/30", "dev", HOST_LINK);
        HostCommand.run("ip", "link", "set", HOST_LINK, "up");
        HostCommand.run("ip", "route", "add", POD_CIDR, "via", NODE_ADDRESS, "dev", HOST_LINK);
    }

    /** A node whose JVM was killed left its namespaces, link and processes: end them before making a new one. */
    private static void undoLeftovers() {
        if (!Files.exists(MARKER)) {
            return;
        }
        try {
            Path old = Path.of(Files.readString(MARKER).strip());
            log.warn("undoing the local node an earlier run left in {}", old);
            NodeProcesses.endAllUnder(old);
            new NodeHost(old, null).close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        // Ending the namespaces' last holders ends them: the veth pair (and with it the host route) and the bridge go too.
        HostCommand.tryRun("umount", dir.resolve("ns/mnt").toString());
        HostCommand.tryRun("umount", dir.resolve("ns/net").toString());
        HostCommand.tryRun("ip", "link", "del", HOST_LINK);
        Path created = dir.resolve("created-mount-points");
        try {
            List<Path> toRemove = new ArrayList<>(createdMountPoints);
            if (Files.exists(created)) {
                Files.readAllLines(created).stream().filter(l -> !l.isBlank()).map(Path::of).forEach(toRemove::add);
            }
            for (Path p : toRemove) {
                HostCommand.tryRun("rmdir", p.toString());
            }
            CgroupCleanup.killRemaining();
            CgroupCleanup.removeEmpty();
            Files.deleteIfExists(MARKER);
        } catch (IOException e) {
            log.warn("could not finish undoing the local node in {}: {}", dir, e.toString());
        } finally {
            if (lock != null) {
                lock.close();
            }
        }
    }
}
