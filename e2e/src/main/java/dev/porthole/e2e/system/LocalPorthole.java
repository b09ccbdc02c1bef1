package dev.porthole.e2e.system;

import dev.porthole.operator.OperatorIdentity;
import dev.porthole.operator.OperatorSettings;
import dev.porthole.operator.identity.CaStore;
import dev.porthole.testcluster.FreePorts;
import dev.porthole.testcluster.Identity;
import dev.porthole.testcluster.ManagedProcess;
import dev.porthole.testcluster.RealNode;
import dev.porthole.testcluster.TestCluster;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The whole of Porthole on this machine, as it runs in a cluster: the real control plane with its
 * {@link RealNode} (the kubelet runs the agent image the operator injects, under its security context), the
 * operator started from its own classpath as a separate process configured only by environment variables and
 * authenticated as its ServiceAccount, its relay listening on the host's end of the node's link (where agents
 * dial it), and {@code porthole connect} run from its jar with a user's kubeconfig context. Used by the demo and
 * the {@code *E2E} tests. (The chart's own path, the operator as a pod behind its Service, is helm-test's.)
 */
public final class LocalPorthole implements AutoCloseable {
    public static final String OPERATOR_NAMESPACE = "porthole-system";

    private final Path root;
    private final Path workDir;
    private final TestCluster cluster;
    private final boolean ownsCluster;
    private final String relayAddress;
    /** Each relay replica's agent and client port (one replica: the operator's own relay, or one apart). */
    private final int[] agentPorts;
    private final int[] clientPorts;
    private final Path operatorKubeconfig;
    /** The relay's own kubeconfig (its ServiceAccount) when it runs apart, as the chart installs it; else null. */
    private final Path relayKubeconfig;
    private final List<ManagedProcess> clients = new ArrayList<>();
    private final AtomicInteger clientCount = new AtomicInteger();
    private final AtomicInteger relayStarts = new AtomicInteger();
    private ManagedProcess operator;
    private final ManagedProcess[] relays;

    private LocalPorthole(Path root, Path workDir, TestCluster cluster, boolean ownsCluster, Path operatorKubeconfig,
                          Path relayKubeconfig, String relayAddress, int replicas) {
        this.relayKubeconfig = relayKubeconfig;
        this.relayAddress = relayAddress;
        this.root = root;
        this.workDir = workDir;
        this.cluster = cluster;
        this.ownsCluster = ownsCluster;
        this.operatorKubeconfig = operatorKubeconfig;
        this.agentPorts = new int[replicas];
        this.clientPorts = new int[replicas];
        for (int i = 0; i < replicas; i++) {
            agentPorts[i] = FreePorts.next();
            clientPorts[i] = FreePorts.next();
        }
        this.relays = new ManagedProcess[replicas];
    }

    private static final String ON_CALL_PORT_FORWARD = "porthole-e2e-oncall-port-forward";

    /** Everything on a new control plane and node, stopped with this (the demo). */
    public static LocalPorthole start(Path workDir) {
        TestCluster cluster = TestCluster.startWithNode(workDir.resolve("cluster"), RepoLayout.root());
        try {
            return start(cluster, true, workDir);
        } catch (RuntimeException e) {
            cluster.close();
            throw e;
        }
    }

    /** Everything on a cluster with a {@link RealNode} the caller owns (tests share one). */
    public static LocalPorthole startOnRealNode(TestCluster cluster, Path workDir) {
        return start(cluster, false, workDir);
    }

    /**
     * The operator and relay on a control plane without a node (relay on 127.0.0.1): no agent ever runs, pods are API
     * objects that {@link dev.porthole.testcluster.Kubelet} reports Running. For measuring the control loop alone
     * (bench/scale-bench.sh), never for the data path.
     */
    public static LocalPorthole startWithoutNode(TestCluster cluster, Path workDir) {
        if (cluster.node().isPresent()) {
            throw new IllegalArgumentException("the cluster has a real node: use startOnRealNode");
        }
        return start(cluster, false, workDir, "127.0.0.1", 0);
    }

    private static LocalPorthole start(TestCluster cluster, boolean ownsCluster, Path workDir) {
        if (cluster.node().isEmpty()) {
            throw new IllegalArgumentException("the cluster has no real node: start it with TestCluster.startWithNode");
        }
        return start(cluster, ownsCluster, workDir, RealNode.HOST_ADDRESS, 1);
    }

    /**
     * As {@link #startOnRealNode}, with {@code replicas} relay processes apart from the operator, each on its own ports;
     * agents are told every replica's address (in a cluster, the relays' headless Service name), so each links all.
     */
    public static LocalPorthole startOnRealNode(TestCluster cluster, Path workDir, int replicas) {
        if (cluster.node().isEmpty()) {
            throw new IllegalArgumentException("the cluster has no real node: start it with TestCluster.startWithNode");
        }
        return start(cluster, false, workDir, RealNode.HOST_ADDRESS, replicas);
    }

    /**
     * @param separateRelays relay processes with their own ServiceAccount, as the chart installs them by default; 0 for
     *                       the relay in the operator's process
     */
    private static LocalPorthole start(TestCluster cluster, boolean ownsCluster, Path workDir, String relayAddress,
                                       int separateRelays) {
        Path kubeconfig = prepareCluster(cluster, workDir);
        Path relayKubeconfig = separateRelays > 0 ? prepareRelay(cluster, workDir) : null;
        LocalPorthole system = new LocalPorthole(RepoLayout.root(), workDir, cluster, ownsCluster, kubeconfig,
                relayKubeconfig, relayAddress, Math.max(1, separateRelays));
        system.startOperator();
        for (int i = 0; i < separateRelays; i++) {
            system.startRelay(i);
        }
        return system;
    }

    /** The relay's ServiceAccount with exactly the relay's ClusterRole; returns its kubeconfig. */
    private static Path prepareRelay(TestCluster cluster, Path workDir) {
        OperatorIdentity.bindRelay(cluster.admin(), OPERATOR_NAMESPACE);
        String token = cluster.serviceAccountToken(OPERATOR_NAMESPACE, OperatorIdentity.RELAY_SERVICE_ACCOUNT,
                Duration.ofHours(6));
        Path kubeconfig = workDir.resolve("relay.kubeconfig");
        writeTokenKubeconfig(kubeconfig, cluster.apiServerUrl(), cluster.adminConfig().getCaCertFile(), token);
        return kubeconfig;
    }

    /** The operator's namespace, ServiceAccount and rights, the users' roles; returns the operator's kubeconfig. */
    private static Path prepareCluster(TestCluster cluster, Path workDir) {
        KubernetesClient admin = cluster.admin();
        if (admin.namespaces().withName(OPERATOR_NAMESPACE).get() == null) {
            admin.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(OPERATOR_NAMESPACE).endMetadata().build()).create();
        }
        OperatorIdentity.bind(admin, OPERATOR_NAMESPACE);
        for (Identity id : List.of(Identity.ALICE, Identity.BOB, Identity.MALLORY)) {
            OperatorIdentity.bindUser(admin, id.username());
        }
        grantOnCallPortForward(admin);
        String token = cluster.serviceAccountToken(OPERATOR_NAMESPACE, OperatorIdentity.SERVICE_ACCOUNT, Duration.ofHours(6));
        Path kubeconfig = workDir.resolve("operator.kubeconfig");
        writeTokenKubeconfig(kubeconfig, cluster.apiServerUrl(), cluster.adminConfig().getCaCertFile(), token);
        return kubeconfig;
    }

    /**
     * On-call SREs may {@code kubectl port-forward} anywhere, as in most clusters; so alice may create forwards
     * (the admission policy and the operator require the creator to hold that right). Bob and mallory may not.
     */
    private static void grantOnCallPortForward(KubernetesClient admin) {
        admin.resource(new ClusterRoleBuilder().withNewMetadata().withName(ON_CALL_PORT_FORWARD).endMetadata()
                .addNewRule().withApiGroups("").withResources("pods/portforward").withVerbs("create").endRule()
                .build()).forceConflicts().serverSideApply();
        admin.resource(new ClusterRoleBindingBuilder().withNewMetadata().withName(ON_CALL_PORT_FORWARD).endMetadata()
                .withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", ON_CALL_PORT_FORWARD)
                .addNewSubject().withKind("Group").withApiGroup("rbac.authorization.k8s.io").withName("sre-oncall").endSubject()
                .build()).forceConflicts().serverSideApply();
    }

    /**
     * Runs {@code porthole ARGS...} from the CLI jar as {@code user} (a context of the cluster's kubeconfig),
     * for commands that end by themselves, such as {@code create}; returns the process after it exited.
     */
    public ManagedProcess porthole(Identity user, String... args) {
        List<String> command = new ArrayList<>(List.of(RepoLayout.java(), "-Xmx128m", "-XX:+UseSerialGC", "-jar",
                RepoLayout.cliJar(root).toString()));
        command.addAll(List.of(args));
        command.addAll(List.of("--kubeconfig", cluster.kubeconfig().toString(), "--context", user.contextName()));
        ManagedProcess cli = ManagedProcess.start("porthole-" + clientCount.incrementAndGet() + "-" + user.username(),
                command, Map.of(), workDir.resolve("logs"));
        cli.awaitExit(Duration.ofSeconds(60));
        return cli;
    }

    /** Starts the operator process and waits until its relay listens. */
    public void startOperator() {
        Map<String, String> env = new HashMap<>(relayEnvironment(0));
        env.put("KUBECONFIG", operatorKubeconfig.toString());
        env.put("POD_NAME", "porthole-operator-local");
        env.put("PORTHOLE_AGENT_IMAGE", OperatorSettings.DEFAULT_AGENT_IMAGE);
        env.put("PORTHOLE_RELAY_AGENT_HOST", relayAddress);
        env.put("PORTHOLE_RELAY_CLIENT_HOST", relayAddress);
        env.put("PORTHOLE_RELAY_MODE", relayKubeconfig == null ? "Embedded" : "Separate");
        if (agentPorts.length > 1) {
            env.put("PORTHOLE_RELAY_AGENT_ADDRESSES", java.util.Arrays.stream(agentPorts)
                    .mapToObj(port -> relayAddress + ":" + port).collect(java.util.stream.Collectors.joining(",")));
        }
        List<String> command = new ArrayList<>(List.of(RepoLayout.java(), "-Xmx256m", "-XX:+UseSerialGC"));
        command.addAll(RepoLayout.operatorLaunch(root));
        operator = ManagedProcess.start("operator", command, env, workDir.resolve("logs"));
        operator.awaitOutput(out -> out.contains("porthole operator started"), Duration.ofSeconds(60));
    }

    /** The relay settings of replica {@code index} (the operator's are replica 0's: clients are told its address). */
    private Map<String, String> relayEnvironment(int index) {
        return Map.of("PORTHOLE_NAMESPACE", OPERATOR_NAMESPACE,
                "PORTHOLE_RELAY_BIND_ADDRESS", relayAddress,
                "PORTHOLE_RELAY_AGENT_PORT", Integer.toString(agentPorts[index]),
                "PORTHOLE_RELAY_CLIENT_PORT", Integer.toString(clientPorts[index]));
    }

    /**
     * Starts the relay process the chart's relay Deployment runs (the operator's jar, argument {@code relay}) with the
     * relay's own kubeconfig, its serving certificate written to files from the Secret the operator issued, as the
     * kubelet mounts it; waits until it listens.
     */
    public void startRelay(int index) {
        Path tls = workDir.resolve("relay-tls");
        Secret secret = cluster.admin().secrets().inNamespace(OPERATOR_NAMESPACE)
                .withName(CaStore.RELAY_SECRET).get();
        try {
            Files.createDirectories(tls);
            for (String key : List.of("tls.crt", "tls.key")) {
                Files.write(tls.resolve(key), Base64.getDecoder().decode(secret.getData().get(key)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, String> env = new HashMap<>(relayEnvironment(index));
        env.put("KUBECONFIG", relayKubeconfig.toString());
        env.put("POD_NAME", relayInstance(index));
        env.put("PORTHOLE_RELAY_TLS_DIR", tls.toString());
        env.put("PORTHOLE_HTTP_PORT", Integer.toString(FreePorts.next())); // the operator's is 8080
        List<String> command = new ArrayList<>(List.of(RepoLayout.java(), "-Xmx128m", "-XX:+UseSerialGC"));
        command.addAll(RepoLayout.operatorLaunch(root));
        command.add("relay");
        ManagedProcess relay = ManagedProcess.start("relay-" + index + "-" + relayStarts.incrementAndGet(), command, env,
                workDir.resolve("logs"));
        relays[index] = relay;
        relay.awaitOutput(out -> out.contains("porthole relay started"), Duration.ofSeconds(60));
    }

    /** Stops the operator process (and with it the relay, when it runs in the operator), as a crash or a rollout would. */
    public void stopOperator() {
        if (operator != null) {
            operator.close();
        }
    }

    /** The name relay replica {@code index} reports as (its Events' reportingInstance), as a pod's name would be. */
    public static String relayInstance(int index) {
        return "porthole-relay-local-" + index;
    }

    /** Stops relay replica {@code index}'s process (SIGTERM: it drains, as a pod being deleted does). */
    public void stopRelay(int index) {
        if (relays[index] != null) {
            relays[index].close();
        }
    }

    /** Every relay replica's client address, as {@code porthole connect --relay} takes them. */
    public String relayClientAddresses() {
        return java.util.Arrays.stream(clientPorts).mapToObj(port -> relayAddress + ":" + port)
                .collect(java.util.stream.Collectors.joining(","));
    }

    public void restartOperator() {
        stopOperator();
        startOperator();
    }

    /**
     * Runs {@code porthole connect NAMESPACE/NAME --local-port PORT} from the CLI jar as {@code user}
     * (a context of the cluster's kubeconfig) and waits until it forwards, or until it exits.
     */
    public ManagedProcess connect(Identity user, String forward, int localPort, String... extraArgs) {
        List<String> command = new ArrayList<>(List.of(RepoLayout.java(), "-Xmx128m", "-XX:+UseSerialGC", "-jar",
                RepoLayout.cliJar(root).toString(), "connect", forward, "--local-port", Integer.toString(localPort),
                "--kubeconfig", cluster.kubeconfig().toString(), "--context", user.contextName()));
        command.addAll(List.of(extraArgs));
        ManagedProcess cli = ManagedProcess.start("connect-" + clientCount.incrementAndGet() + "-" + user.username(),
                command, Map.of(), workDir.resolve("logs"));
        synchronized (clients) {
            clients.add(cli);
        }
        return cli;
    }

    public TestCluster cluster() {
        return cluster;
    }

    /** Where the relay listens, for agents and clients alike: the host's end of the node's link. */
    public String relayAddress() {
        return relayAddress;
    }

    public ManagedProcess operator() {
        return operator;
    }

    /** Relay replica 0's own process, when the relay runs apart from the operator (as the chart installs it). */
    public Optional<ManagedProcess> relay() {
        return relay(0);
    }

    public Optional<ManagedProcess> relay(int index) {
        return Optional.ofNullable(relays[index]);
    }

    public Path workDir() {
        return workDir;
    }

    public Path root() {
        return root;
    }


    private static void writeTokenKubeconfig(Path file, String server, String caFile, String token) {
        String yaml = "apiVersion: v1\nkind: Config\nclusters:\n- name: local\n  cluster:\n    server: " + server
                + "\n    certificate-authority: " + caFile + "\nusers:\n- name: porthole-operator\n  user:\n    token: " + token
                + "\ncontexts:\n- name: porthole-operator\n  context:\n    cluster: local\n    user: porthole-operator\n"
                + "current-context: porthole-operator\n";
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, yaml);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        synchronized (clients) {
            clients.forEach(ManagedProcess::close);
        }
        for (int i = 0; i < relays.length; i++) {
            stopRelay(i);
        }
        stopOperator();
        if (ownsCluster) {
            cluster.close();
        }
    }
}
