package dev.porthole.testcluster;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * etcd and kube-apiserver, started from the binaries scripts/setup-control-plane.sh built, with the cluster's
 * own PKI ({@link ClusterPki}). Two shapes: an API server alone on loopback (what the operator's tests need),
 * or one a real node can use ({@link Shape#forNode}): reachable on the node link, advertised there so the
 * {@code kubernetes} Service leads to it, with the ServiceAccount admission plugin, the Node authorizer and a
 * client certificate for reaching kubelets.
 */
final class ControlPlane implements AutoCloseable {
    /** The administrator's user name: the CN of the client certificate {@link #adminConfig()} uses. */
    static final String ADMIN_USER = "porthole-local-admin";

    private final ClusterPki pki;
    private final ComponentProcess etcd;
    private final ComponentProcess apiServer;
    private final Config adminConfig;
    private final Path adminKubeconfig;
    private final Shape shape;
    private final Path workDir;

    private ControlPlane(ClusterPki pki, ComponentProcess etcd, ComponentProcess apiServer, Config adminConfig,
                         Path adminKubeconfig, Shape shape, Path workDir) {
        this.workDir = workDir;
        this.pki = pki;
        this.etcd = etcd;
        this.apiServer = apiServer;
        this.adminConfig = adminConfig;
        this.adminKubeconfig = adminKubeconfig;
        this.shape = shape;
    }

    /** Where the API server listens, which Service range it serves, and whether a node will join. */
    /** {@code auditLog}: every request's metadata as one JSON line in {@link #AUDIT_LOG} (for counting requests). */
    record Shape(String bindAddress, String serviceCidr, String kubernetesServiceIp, boolean node, boolean auditLog) {
        static Shape loopbackOnly() {
            return new Shape("127.0.0.1", "10.0.0.0/24", "10.0.0.1", false, false);
        }

        static Shape forNode(String bindAddress) {
            return new Shape(bindAddress, "10.96.0.0/16", "10.96.0.1", true, false);
        }

        Shape withAuditLog() {
            return new Shape(bindAddress, serviceCidr, kubernetesServiceIp, node, true);
        }
    }

    /** The API server's audit log, under the work directory, when the shape asks for one. */
    static final String AUDIT_LOG = "kube-apiserver-audit.log";
    /** Metadata of every request, once, when its response is complete (a watch also when it starts: that is its verb). */
    private static final String AUDIT_POLICY = """
            apiVersion: audit.k8s.io/v1
            kind: Policy
            omitStages: [RequestReceived]
            rules:
              - level: Metadata
            """;

    static ControlPlane start(ControlPlaneBinaries binaries, Path workDir, Path tokenFile, Shape shape) {
        try {
            ClusterPki pki = ClusterPki.create(workDir.resolve("pki"));
            ClusterPki.Pair serving = pki.serving("kube-apiserver",
                    List.of("localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                            "kubernetes.default.svc.cluster.local"),
                    java.util.stream.Stream.of("127.0.0.1", shape.bindAddress(), shape.kubernetesServiceIp()).distinct().toList());
            ClusterPki.Pair admin = pki.client("admin", ADMIN_USER, List.of("system:masters"));
            ClusterPki.Pair saKey = pki.serviceAccountKey();

            int etcdClientPort = FreePorts.next();
            int etcdPeerPort = FreePorts.next();
            Path etcdData = workDir.resolve("etcd-data");
            deleteRecursively(etcdData);
            ComponentProcess etcd = ComponentProcess.start("etcd", List.of(binaries.binDir().resolve("etcd").toString(),
                    "--name=porthole-local", "--data-dir=" + etcdData,
                    "--listen-client-urls=http://127.0.0.1:" + etcdClientPort,
                    "--advertise-client-urls=http://127.0.0.1:" + etcdClientPort,
                    "--listen-peer-urls=http://127.0.0.1:" + etcdPeerPort,
                    "--initial-advertise-peer-urls=http://127.0.0.1:" + etcdPeerPort,
                    "--initial-cluster=porthole-local=http://127.0.0.1:" + etcdPeerPort,
                    "--listen-metrics-urls=http://127.0.0.1:" + FreePorts.next(),
                    // test data: losing it on a power cut costs nothing, and fsync dominates a small cluster's latency
                    "--unsafe-no-fsync", "--log-level=warn"), workDir.resolve("etcd.log"), null);

            int port = FreePorts.next();
            List<String> flags = new ArrayList<>(List.of(binaries.binDir().resolve("kube-apiserver").toString(),
                    "--bind-address=" + shape.bindAddress(), "--secure-port=" + port,
                    "--etcd-servers=http://127.0.0.1:" + etcdClientPort,
                    "--cert-dir=" + workDir.resolve("apiserver-certs"),
                    "--tls-cert-file=" + serving.certificate(), "--tls-private-key-file=" + serving.key(),
                    "--client-ca-file=" + pki.caCertificate(),
                    "--token-auth-file=" + tokenFile,
                    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                    "--service-account-key-file=" + saKey.certificate(),
                    "--service-account-signing-key-file=" + saKey.key(),
                    "--service-cluster-ip-range=" + shape.serviceCidr(),
                    "--allow-privileged=true", "--profiling=false"));
            if (shape.auditLog()) {
                Path policy = workDir.resolve("audit-policy.yaml");
                Files.writeString(policy, AUDIT_POLICY);
                Files.deleteIfExists(workDir.resolve(AUDIT_LOG)); // the API server appends: a reused work dir starts afresh
                flags.addAll(List.of("--audit-policy-file=" + policy, "--audit-log-path=" + workDir.resolve(AUDIT_LOG),
                        "--audit-log-format=json", "--audit-log-maxbackup=0", "--audit-log-mode=blocking"));
            }
            if (shape.node()) {
                ClusterPki.Pair kubeletClient = pki.client("apiserver-kubelet-client", "kube-apiserver-kubelet-client",
                        List.of("system:masters"));
                flags.addAll(List.of("--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction",
                        "--advertise-address=" + shape.bindAddress(),
                        "--kubelet-client-certificate=" + kubeletClient.certificate(),
                        "--kubelet-client-key=" + kubeletClient.key(),
                        "--kubelet-certificate-authority=" + pki.caCertificate(),
                        "--kubelet-preferred-address-types=InternalIP"));
            } else {
                // No node, so no controller gives namespaces a default ServiceAccount: pods are only API objects here.
                flags.addAll(List.of("--authorization-mode=RBAC", "--disable-admission-plugins=ServiceAccount"));
            }
            awaitEtcdHealthy(etcd, etcdClientPort, Duration.ofSeconds(30));
            ComponentProcess apiServer = ComponentProcess.start("kube-apiserver", flags, workDir.resolve("kube-apiserver.log"), null);

            String url = "https://" + shape.bindAddress() + ":" + port;
            Config adminConfig = new ConfigBuilder(Config.empty()).withMasterUrl(url)
                    .withCaCertFile(pki.caCertificate().toString())
                    .withClientCertFile(admin.certificate().toString())
                    .withClientKeyFile(admin.key().toString())
                    .withClientKeyAlgo("EC")
                    .withRequestTimeout(30_000)
                    .build();
            Path kubeconfig = workDir.resolve("admin-cert.kubeconfig");
            Files.writeString(kubeconfig, Kubeconfigs.clientCertificate(url, pki.caCertificate(), "admin", admin));
            ControlPlane cp = new ControlPlane(pki, etcd, apiServer, adminConfig, kubeconfig, shape, workDir);
            cp.awaitReady(Duration.ofSeconds(90));
            return cp;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void awaitEtcdHealthy(ComponentProcess etcd, int port, Duration timeout) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest health = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
                .timeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (true) {
                try {
                    if (http.send(health, HttpResponse.BodyHandlers.ofString()).body().contains("\"health\":\"true\"")) {
                        return;
                    }
                } catch (IOException notYet) {
                    // not listening yet
                }
                if (!etcd.isAlive() || System.nanoTime() > deadline) {
                    etcd.close();
                    throw etcd.failure("become healthy within " + timeout);
                }
                Thread.sleep(50);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private void awaitReady(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (KubernetesClient client = new KubernetesClientBuilder().withConfig(adminConfig).build()) {
            while (true) {
                if (!apiServer.isAlive()) {
                    throw apiServer.failure("become ready");
                }
                try {
                    if ("ok".equals(client.raw("/readyz"))) {
                        return;
                    }
                } catch (RuntimeException notYet) {
                    // connection refused or 500 while post-start hooks run
                }
                if (System.nanoTime() > deadline) {
                    close();
                    throw apiServer.failure("become ready within " + timeout);
                }
                Thread.sleep(100);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    Path workDirFile(String name) {
        return workDir.resolve(name);
    }

    ClusterPki pki() {
        return pki;
    }

    Shape shape() {
        return shape;
    }

    Config adminConfig() {
        return new ConfigBuilder(adminConfig).build();
    }

    /** A kubeconfig file with the administrator's client certificate, for controllers started from Java. */
    Path adminKubeconfig() {
        return adminKubeconfig;
    }

    /** A client certificate for one of the cluster's components and a kubeconfig file in {@code dir} that uses it. */
    Path componentKubeconfig(Path dir, String component, String user, List<String> groups) {
        ClusterPki.Pair cert = pki.client(component, user, groups);
        Path file = dir.resolve(component + ".kubeconfig");
        try {
            Files.writeString(file, Kubeconfigs.clientCertificate(url(), pki.caCertificate(), component, cert));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    String url() {
        return adminConfig.getMasterUrl().replaceAll("/$", "");
    }

    static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    @Override
    public void close() {
        apiServer.close();
        etcd.close();
    }
}
