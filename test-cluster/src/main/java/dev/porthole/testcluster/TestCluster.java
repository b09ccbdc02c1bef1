package dev.porthole.testcluster;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Kubernetes control plane on this machine: etcd and kube-apiserver ({@link ControlPlane}) started from
 * the binaries scripts/setup-control-plane.sh built, with the cluster's own PKI, plus kube-controller-manager
 * (garbage collector, namespace controller; every controller when a {@link RealNode} joins). Real authentication (a token per {@link Identity},
 * service-account tokens from the TokenRequest API), real RBAC, CEL, server-side apply and admission.
 *
 * <p>It never touches {@code ~/.kube/config}: its kubeconfig is written to {@link #kubeconfig()} in its
 * work directory. Tests get one shared instance per JVM through {@link TestClusterExtension}; the demo
 * starts one with {@link #start(Path)}.
 */
public final class TestCluster implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TestCluster.class);
    private static final String[] CRD_RESOURCES = {
        "/META-INF/fabric8/portforwards.porthole.dev-v1.yml",
        "/META-INF/fabric8/portforwardpolicies.porthole.dev-v1.yml",
    };

    private final ControlPlaneBinaries binaries;
    private final Path workDir;
    private final ControlPlane controlPlane;
    private final ControllerManagerProcess controllerManager;
    private final Config adminConfig;
    private final Map<Identity, String> tokens;
    private final KubernetesClient admin;
    private final List<KubernetesClient> clients = new ArrayList<>();
    private volatile Duration startupTime;
    private volatile RealNode node;
    private volatile boolean closed;

    private TestCluster(ControlPlaneBinaries binaries, Path workDir, ControlPlane controlPlane,
                        ControllerManagerProcess controllerManager, Config adminConfig,
                        Map<Identity, String> tokens, Duration startupTime) {
        this.binaries = binaries;
        this.workDir = workDir;
        this.controlPlane = controlPlane;
        this.controllerManager = controllerManager;
        this.adminConfig = adminConfig;
        this.tokens = tokens;
        this.startupTime = startupTime;
        this.admin = track(new KubernetesClientBuilder().withConfig(adminConfig).build());
    }

    /** Starts a control plane whose kubeconfig, token file and logs live in {@code workDir}. */
    public static TestCluster start(Path workDir) {
        return start(workDir, ControlPlane.Shape.loopbackOnly());
    }

    /**
     * As {@link #start(Path)}, with the API server writing every request's metadata (user, verb, resource) to
     * {@link #auditLog()}: benchmarks count what a component asks of the API server from it.
     */
    public static TestCluster startAudited(Path workDir) {
        return start(workDir, ControlPlane.Shape.loopbackOnly().withAuditLog());
    }

    /**
     * Starts a control plane and a {@link RealNode} beside it (kubelet, containerd, kube-proxy, cluster DNS), with
     * the images scripts/build-images.sh builds from {@code repoRoot}. One node per machine at a time.
     */
    public static TestCluster startWithNode(Path workDir, Path repoRoot) {
        NodeImages images = NodeImages.build(repoRoot);
        RealNode node = RealNode.prepare(workDir.toAbsolutePath());
        TestCluster cluster;
        try {
            cluster = start(workDir, ControlPlane.Shape.forNode(NodeHost.HOST_ADDRESS));
        } catch (RuntimeException e) {
            node.close();
            throw e;
        }
        cluster.node = node;
        try {
            node.start(cluster.binaries, cluster.controlPlane, cluster.admin, images);
            return cluster;
        } catch (RuntimeException e) {
            cluster.close(); // the node with it
            throw e;
        }
    }

    static TestCluster start(Path workDir, ControlPlane.Shape shape) {
        long t0 = System.nanoTime();
        ControlPlaneBinaries binaries = ControlPlaneBinaries.fromEnvironment();
        binaries.requirePresent();
        int reaped = ProcessLedger.MACHINE.reapDeadRuns();
        if (reaped > 0) {
            log.info("ended {} processes an earlier, killed run left", reaped);
        }
        try {
            Files.createDirectories(workDir);
            Path abs = workDir.toAbsolutePath();
            Map<Identity, String> tokens = newTokens();
            Path tokenFile = writeTokenFile(abs, tokens);

            ControlPlane controlPlane = ControlPlane.start(binaries, abs, tokenFile, shape);
            Config adminConfig = controlPlane.adminConfig();

            // CRDs go in before the garbage collector starts, so it watches PortForwards from its first
            // sync; otherwise it would notice a deleted forward only at its next rediscovery (30 s).
            try (KubernetesClient bootstrap = new KubernetesClientBuilder().withConfig(adminConfig).build()) {
                installCrds(bootstrap);
                CreatorAdmission.install(bootstrap);
                checkAdminIdentity(bootstrap);
            }
            ControllerManagerProcess kcm = ControllerManagerProcess.start(binaries.controllerManager(), controlPlane, abs);
            TestCluster cluster = new TestCluster(binaries, abs, controlPlane, kcm, adminConfig, tokens,
                    Duration.ofNanos(System.nanoTime() - t0));
            Runtime.getRuntime().addShutdownHook(new Thread(cluster::close, "test-cluster-stop"));
            kcm.awaitGarbageCollectorSynced(Duration.ofSeconds(90));
            cluster.writeUserKubeconfig();
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            cluster.startupTime = took;
            log.info("local control plane ready in {} ms: {} (kubeconfig {})", took.toMillis(),
                    adminConfig.getMasterUrl(), cluster.kubeconfig());
            return cluster;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Map<Identity, String> newTokens() {
        SecureRandom random = new SecureRandom();
        Map<Identity, String> tokens = new EnumMap<>(Identity.class);
        for (Identity id : Identity.values()) {
            byte[] b = new byte[24];
            random.nextBytes(b);
            tokens.put(id, HexFormat.of().formatHex(b));
        }
        return tokens;
    }

    /**
     * The API server's static token file: {@code token,user,uid[,"group1,group2"]}, read with Go's
     * encoding/csv, then the group column split at commas. Every field is quoted (a bare {@code "} or a
     * leading space would otherwise be misread); a user without groups gets no group column, since an
     * empty one would be read as one group named "".
     */
    private static Path writeTokenFile(Path dir, Map<Identity, String> tokens) throws IOException {
        StringBuilder csv = new StringBuilder();
        tokens.forEach((id, token) -> {
            for (String group : id.groups()) {
                if (group.contains(",")) {
                    throw new IllegalStateException("the token file cannot carry a group with a comma: " + group);
                }
            }
            csv.append(csvField(token)).append(',').append(csvField(id.username())).append(',')
                    .append(csvField(id.contextName() + "-uid"));
            if (!id.groups().isEmpty()) {
                csv.append(',').append(csvField(String.join(",", id.groups())));
            }
            csv.append('\n');
        });
        Path file = dir.resolve("tokens.csv");
        Files.writeString(file, csv, StandardCharsets.UTF_8);
        return file;
    }

    private static void checkAdminIdentity(KubernetesClient admin) {
        var me = admin.authentication().v1().selfSubjectReviews()
                .create(new io.fabric8.kubernetes.api.model.authentication.SelfSubjectReview()).getStatus().getUserInfo();
        var actual = new dev.porthole.api.v1alpha1.RequestedBy(me.getUsername(), me.getGroups());
        if (!Creators.CLUSTER_ADMIN.equals(actual)) {
            throw new IllegalStateException("the admin client authenticates as " + actual.getUser() + " " + actual.groupList()
                    + ", not as Creators.CLUSTER_ADMIN says");
        }
    }

    /** A quoted encoding/csv field; a quote inside is doubled. Line breaks would not survive, so none are allowed. */
    static String csvField(String value) {
        if (value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0) {
            throw new IllegalArgumentException("a token file field cannot contain a line break");
        }
        return '"' + value.replace("\"", "\"\"") + '"';
    }

    /** A YAML double-quoted scalar: backslash, quote and control characters escaped, everything else as is (UTF-8). */
    static String yamlString(String value) {
        StringBuilder out = new StringBuilder("\"");
        value.codePoints().forEach(cp -> {
            if (cp == '\\' || cp == '"') {
                out.append('\\').appendCodePoint(cp);
            } else if (Character.getType(cp) == Character.CONTROL) {
                out.append(String.format("\\u%04X", cp));
            } else {
                out.appendCodePoint(cp);
            }
        });
        return out.append('"').toString();
    }

    private static void installCrds(KubernetesClient admin) {
        for (String resource : CRD_RESOURCES) {
            try (InputStream in = TestCluster.class.getResourceAsStream(resource)) {
                if (in == null) {
                    throw new IllegalStateException("CRD " + resource + " is not on the classpath (porthole-crds)");
                }
                CustomResourceDefinition crd = admin.apiextensions().v1().customResourceDefinitions().load(in).item();
                admin.resource(crd).forceConflicts().serverSideApply();
                admin.apiextensions().v1().customResourceDefinitions().withName(crd.getMetadata().getName())
                        .waitUntilCondition(c -> c != null && c.getStatus() != null && c.getStatus().getConditions() != null
                                && c.getStatus().getConditions()
                                .stream().anyMatch(k -> "Established".equals(k.getType()) && "True".equals(k.getStatus())),
                                30, TimeUnit.SECONDS);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private void writeUserKubeconfig() throws IOException {
        String server = adminConfig.getMasterUrl().replaceAll("/$", "");
        String ca = adminConfig.getCaCertFile();
        StringBuilder y = new StringBuilder();
        y.append("apiVersion: v1\nkind: Config\nclusters:\n- name: porthole-local\n  cluster:\n")
                .append("    server: ").append(server).append('\n')
                .append("    certificate-authority: ").append(ca).append('\n')
                .append("users:\n");
        for (Identity id : Identity.values()) {
            y.append("- name: ").append(yamlString(id.contextName())).append("\n  user:\n    token: ")
                    .append(yamlString(tokens.get(id))).append('\n');
        }
        y.append("contexts:\n");
        for (Identity id : Identity.values()) {
            y.append("- name: ").append(yamlString(id.contextName())).append("\n  context:\n    cluster: porthole-local\n")
                    .append("    user: ").append(yamlString(id.contextName())).append("\n    namespace: default\n");
        }
        y.append("current-context: ").append(yamlString(Identity.ADMIN.contextName())).append('\n');
        Files.writeString(kubeconfig(), y.toString(), StandardCharsets.UTF_8);
    }

    /** Administrator client (group system:masters). Closed with the cluster. */
    /** The API server's audit log (present only for {@link #startAudited}). */
    public Path auditLog() {
        return workDir.toAbsolutePath().resolve(ControlPlane.AUDIT_LOG);
    }

    public KubernetesClient admin() {
        return admin;
    }

    /** A client authenticated as {@code id} through its bearer token. Closed with the cluster. */
    public KubernetesClient clientFor(Identity id) {
        return clientWithToken(tokens.get(id));
    }

    /** A client authenticated with any bearer token, for example one from the TokenRequest API. */
    public KubernetesClient clientWithToken(String token) {
        return track(new KubernetesClientBuilder().withConfig(configWithToken(token)).build());
    }

    /** A client configuration for {@code token} against this cluster, with no other credentials. */
    public Config configWithToken(String token) {
        return new ConfigBuilder(Config.empty())
                .withMasterUrl(adminConfig.getMasterUrl())
                .withCaCertFile(adminConfig.getCaCertFile())
                .withOauthToken(token)
                .withRequestTimeout(30_000)
                .build();
    }

    /** The administrator's configuration (client certificate), for components that build their own client. */
    public Config adminConfig() {
        return new ConfigBuilder(adminConfig).build();
    }

    /**
     * A token for {@code namespace/name} from the TokenRequest API (creating the service account if
     * absent), so a test acts as that service account under real RBAC.
     */
    public String serviceAccountToken(String namespace, String name, Duration lifetime) {
        if (admin.serviceAccounts().inNamespace(namespace).withName(name).get() == null) {
            admin.serviceAccounts().inNamespace(namespace).resource(new ServiceAccountBuilder()
                    .withNewMetadata().withName(name).withNamespace(namespace).endMetadata().build()).create();
        }
        return admin.serviceAccounts().inNamespace(namespace).withName(name)
                .tokenRequest(new TokenRequestBuilder().withNewSpec()
                        .withExpirationSeconds(Math.max(600, lifetime.toSeconds())).endSpec().build())
                .getStatus().getToken();
    }

    /** Creates a namespace named {@code prefix-<random>} and returns its name. */
    public String createNamespace(String prefix) {
        String safe = prefix.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]", "-");
        if (safe.length() > 40) {
            safe = safe.substring(0, 40);
        }
        String name = (safe + "-" + HexFormat.of().formatHex(new SecureRandom().generateSeed(3))).replaceAll("-+", "-");
        admin.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(name)
                .addToLabels("porthole.dev/test-namespace", "true").endMetadata().build()).create();
        if (node != null) {
            // as in any cluster, pods are refused until the controller has made the namespace's default ServiceAccount
            admin.serviceAccounts().inNamespace(name).withName("default")
                    .waitUntilCondition(java.util.Objects::nonNull, 30, TimeUnit.SECONDS);
        }
        return name;
    }

    /** The real node, or empty when this cluster has none (pods are then only API objects). */
    public java.util.Optional<RealNode> node() {
        return java.util.Optional.ofNullable(node);
    }

    public void deleteNamespace(String name) {
        admin.namespaces().withName(name).delete();
    }

    /** Runs the cluster's own kubectl as {@code id}; never the user's kubeconfig. */
    public KubectlResult kubectl(Identity id, String... args) {
        List<String> cmd = new ArrayList<>(List.of(binaries.kubectl().toString(),
                "--kubeconfig=" + kubeconfig(), "--context=" + id.contextName()));
        cmd.addAll(List.of(args));
        try {
            Path out = Files.createTempFile(workDir, "kubectl", ".out");
            Path err = Files.createTempFile(workDir, "kubectl", ".err");
            Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("kubectl did not finish within 60 s: " + cmd);
            }
            KubectlResult result = new KubectlResult(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
            return result;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** {@code kubectl apply -n NAMESPACE -f} a manifest as {@code id}, as a user would; what kubectl printed. */
    public KubectlResult apply(Identity id, String namespace, String yaml) {
        try {
            Path file = Files.createTempFile(workDir, "manifest", ".yaml");
            try {
                Files.writeString(file, yaml);
                return kubectl(id, "apply", "-n", namespace, "-f", file.toString());
            } finally {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A kubeconfig with one context per {@link Identity} (named {@link Identity#contextName()}), for kubectl and people. */
    public Path kubeconfig() {
        return workDir.resolve("kubeconfig");
    }

    public Path workDir() {
        return workDir;
    }

    public Path kubectlBinary() {
        return binaries.kubectl();
    }

    public String apiServerUrl() {
        return adminConfig.getMasterUrl();
    }

    /** From the first process start to the cluster being ready for tests. */
    public Duration startupTime() {
        return startupTime;
    }

    long controllerManagerPid() {
        return controllerManager.pid();
    }

    private KubernetesClient track(KubernetesClient client) {
        synchronized (clients) {
            clients.add(client);
        }
        return client;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        synchronized (clients) {
            clients.forEach(KubernetesClient::close);
        }
        if (node != null) {
            node.close();
        }
        controllerManager.close();
        controlPlane.close();
        log.info("local control plane stopped");
    }

    /** What a kubectl run printed. */
    public record KubectlResult(int exitCode, String stdout, String stderr) {
        public boolean succeeded() {
            return exitCode == 0;
        }
    }
}
