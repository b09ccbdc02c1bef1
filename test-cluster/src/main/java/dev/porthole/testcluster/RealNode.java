package dev.porthole.testcluster;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Kubernetes node beside the local control plane: Debian's containerd and runc, the kubelet and
 * kube-proxy built from the pinned module, a CNI bridge, and cluster DNS (CoreDNS) as a pod, all inside
 * {@link NodeHost}'s namespaces. Images come from {@link NodeImages}, never from a registry, so pods use
 * {@code imagePullPolicy: Never}. Started and stopped with its {@link TestCluster}.
 */
public final class RealNode implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RealNode.class);
    public static final String NAME = "porthole-node";
    public static final String CLUSTER_DNS = "10.96.0.10";
    public static final String CLUSTER_DOMAIN = "cluster.local";
    /** The host's end of the node's link: pods reach processes on the host (the API server, a relay) here. */
    public static final String HOST_ADDRESS = NodeHost.HOST_ADDRESS;
    /**
     * The node's InternalIP, the node end of its link: the host reaches NodePorts here (kube-proxy serves them in the
     * node's namespace), as a cloud load balancer would. ClusterIPs are not reachable from the host.
     */
    public static final String NODE_ADDRESS = NodeHost.NODE_ADDRESS;

    private final NodeHost host;
    private final List<ComponentProcess> processes = new ArrayList<>();
    private Path containerdSocket;
    private boolean closed;

    private RealNode(NodeHost host) {
        this.host = host;
    }

    /** Prepares the node's namespaces and link; the control plane then listens on {@link NodeHost#HOST_ADDRESS}. */
    static RealNode prepare(Path workDir) {
        return new RealNode(NodeHost.create(workDir.resolve("node")));
    }

    /** Starts containerd, kube-scheduler, the kubelet and kube-proxy, imports the images, deploys cluster DNS. */
    void start(ControlPlaneBinaries binaries, ControlPlane controlPlane, KubernetesClient admin, NodeImages images) {
        long t0 = System.nanoTime();
        try {
            Path dir = host.dir();
            ClusterPki pki = controlPlane.pki();
            Path conf = Files.createDirectories(dir.resolve("conf"));
            Files.createDirectories(dir.resolve("cni/net.d"));
            Files.createDirectories(dir.resolve("run"));
            containerdSocket = dir.resolve("run/containerd.sock");
            Files.writeString(conf.resolve("containerd.toml"), NodeConfigs.containerd(dir, containerdSocket, NodeImages.PAUSE));
            Files.writeString(dir.resolve("cni/net.d/10-porthole.conflist"), NodeConfigs.cniBridge(dir));

            processes.add(ComponentProcess.start("containerd",
                    List.of(HostCommand.concat(host.inside(), "containerd", "--config", conf.resolve("containerd.toml").toString())),
                    dir.resolve("containerd.log"), null));
            awaitContainerd(Duration.ofSeconds(30));
            images.importInto(this);

            Path schedulerKubeconfig = controlPlane.componentKubeconfig(conf, "kube-scheduler", "system:kube-scheduler", List.of());
            processes.add(ComponentProcess.start("kube-scheduler", List.of(binaries.binary("kube-scheduler").toString(),
                    "--kubeconfig=" + schedulerKubeconfig, "--authentication-kubeconfig=" + schedulerKubeconfig,
                    "--authorization-kubeconfig=" + schedulerKubeconfig, "--leader-elect=false",
                    "--bind-address=127.0.0.1", "--secure-port=" + FreePorts.next(), "-v=1"),
                    controlPlane.workDirFile("kube-scheduler.log"), null));

            ClusterPki.Pair serving = pki.serving(NAME, List.of(NAME), List.of(NodeHost.NODE_ADDRESS));
            Path kubeletKubeconfig = controlPlane.componentKubeconfig(conf, "kubelet", "system:node:" + NAME, List.of("system:nodes"));
            Files.writeString(conf.resolve("kubelet.yaml"), NodeConfigs.kubelet(dir, containerdSocket, pki.caCertificate(), serving));
            processes.add(ComponentProcess.start("kubelet", List.of(HostCommand.concat(host.inside(),
                    binaries.binary("kubelet").toString(), "--config=" + conf.resolve("kubelet.yaml"),
                    "--kubeconfig=" + kubeletKubeconfig, "--root-dir=" + dir.resolve("kubelet"),
                    "--hostname-override=" + NAME, "--node-ip=" + NodeHost.NODE_ADDRESS, "-v=1")),
                    dir.resolve("kubelet.log"), null));

            Path proxyKubeconfig = controlPlane.componentKubeconfig(conf, "kube-proxy", "system:kube-proxy", List.of());
            Files.writeString(conf.resolve("kube-proxy.yaml"), NodeConfigs.kubeProxy(proxyKubeconfig));
            processes.add(ComponentProcess.start("kube-proxy", List.of(HostCommand.concat(host.inside(),
                    binaries.binary("kube-proxy").toString(), "--config=" + conf.resolve("kube-proxy.yaml"), "-v=1")),
                    dir.resolve("kube-proxy.log"), null));

            awaitReady(admin, Duration.ofSeconds(90));
            ClusterDns.deploy(admin, NodeImages.COREDNS);
            ClusterDns.awaitReady(admin, Duration.ofSeconds(90));
            log.info("real node {} Ready with cluster DNS in {} ms (kubelet, containerd, kube-proxy; logs in {})", NAME,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void awaitContainerd(Duration timeout) {
        ComponentProcess containerd = processes.get(0);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (HostCommand.tryRun(ctr("version")).exitCode() != 0) {
            if (!containerd.isAlive() || System.nanoTime() > deadline) {
                throw containerd.failure("answer on " + containerdSocket + " within " + timeout);
            }
            pause(100);
        }
    }

    private void awaitReady(KubernetesClient admin, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Node node = admin.nodes().withName(NAME).get();
            if (node != null && node.getStatus() != null && node.getStatus().getConditions() != null
                    && node.getStatus().getConditions().stream()
                    .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()))) {
                return;
            }
            for (ComponentProcess p : processes) {
                if (!p.isAlive()) {
                    throw p.failure("keep running while the node registered");
                }
            }
            if (System.nanoTime() > deadline) {
                throw processes.get(processes.size() - 2).failure("register a Ready node within " + timeout);
            }
            pause(100);
        }
    }

    /** A ctr command against this node's containerd, in the Kubernetes namespace, run inside the node's namespaces. */
    String[] ctr(String... args) {
        List<String> cmd = new ArrayList<>(host.inside());
        cmd.addAll(List.of("ctr", "--address", containerdSocket.toString(), "--namespace", "k8s.io"));
        cmd.addAll(List.of(args));
        return cmd.toArray(String[]::new);
    }

    /** The node's directory: its logs, configuration and state. */
    public Path dir() {
        return host.dir();
    }

    /** Runs a command inside the node's network and mount namespaces, as a process on the node would. */
    public HostCommand.Result runOnNode(String... cmd) {
        return HostCommand.tryRun(HostCommand.concat(host.inside(), cmd));
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        // kubelet and kube-proxy first, so nothing restarts what containerd is asked to stop next
        for (int i = processes.size() - 1; i >= 1; i--) {
            processes.get(i).close();
        }
        if (!processes.isEmpty() && processes.get(0).isAlive()) {
            String tasks = HostCommand.tryRun(ctr("tasks", "ls", "-q")).output();
            for (String task : tasks.lines().filter(l -> !l.isBlank()).toList()) {
                HostCommand.tryRun(ctr("tasks", "kill", "-s", "SIGKILL", task.strip()));
            }
            processes.get(0).close();
        }
        int shims = NodeProcesses.endAllUnder(host.dir());
        if (shims > 0) {
            log.info("ended {} container shims of the node", shims);
        }
        host.close();
        log.info("real node {} stopped", NAME);
    }
}
