package dev.porthole.e2e.podrunner;

import io.fabric8.kubernetes.api.model.BindingBuilder;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EphemeralContainer;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Plays the kubelet (and the scheduler) for Porthole's end-to-end tests and demo, on this machine.
 *
 * <ul>
 *   <li><b>Node</b>: registers a Ready Node named {@code nodeName} (deleted on {@link #close()}).</li>
 *   <li><b>Binding</b>: there is no scheduler in the local control plane, so the runner binds every pod
 *       that has no {@code spec.nodeName} and uses the default scheduler (no {@code schedulerName}, or
 *       {@code default-scheduler}) to its node, in all namespaces or only in {@link #onlyNamespace(String)}.
 *       Pods created with {@code spec.nodeName} set to this node are taken as they are; other nodes' pods are
 *       left alone.</li>
 *   <li><b>Network</b>: each pod gets its own network namespace {@code ph-<hash>} and an address in
 *       10.244.0.0/16 on the bridge {@code ph-br0} (host end {@link #hostAddress()} = 10.244.0.1), with no
 *       default route, so pods reach the host's bridge address and each other and nothing else
 *       ({@link NetworkMode#NAMESPACES}, needs root and iproute2). Where that is impossible the runner falls
 *       back to the host's network with pod IP 127.0.0.1 and says so in one WARN line
 *       ({@link NetworkMode#AUTO}, the default).</li>
 *   <li><b>Containers</b>: for each container and ephemeral container whose image was registered with
 *       {@link #image(String, ImageCommand)}, a real process runs inside the pod's network namespace with the
 *       container's environment (values, Secret and ConfigMap keys read from the API server, field refs)
 *       and arguments, in {@code <sandboxRoot>/<namespace>_<pod>/<container>/} (stdout.log, stderr.log).
 *       A container whose image is unknown is reported Running <em>without a process</em>: it stands for the
 *       application a test starts itself (e.g. with {@link PodNetwork#inside(List)}). Ephemeral containers
 *       added later through {@code pods/ephemeralcontainers} are noticed and started.</li>
 *   <li><b>Status</b>: phase, Ready/ContainersReady, pod and host IP, container and ephemeral container
 *       statuses (running with startedAt; terminated with exit code, reason and finishedAt). Containers are
 *       never restarted, whatever the restart policy.</li>
 *   <li><b>Ending</b>: when a pod is deleted (it gets a deletion timestamp), its processes get SIGTERM, then
 *       SIGKILL after {@link #stopGrace(Duration)} (at most the pod's grace period), the pod is removed from
 *       the API server as the kubelet does, and its namespace and veth are deleted. {@link #close()} (also
 *       run by a shutdown hook) stops every process and removes every network it created. At start, {@code
 *       ph-*} namespaces (and what runs in them) and links left by a killed run are removed.</li>
 * </ul>
 *
 * <pre>{@code
 * try (LocalPodRunner runner = new LocalPodRunner(admin, "porthole-node")
 *         .image("ghcr.io/porthole-dev/porthole-agent:0.1.0", ImageCommand.javaJar(agentJar, "-Xmx48m"))
 *         .start()) {
 *     RelayServer relay = RelayServer.builder().bindAddress(runner.hostAddress())...build().start();
 *     // once the pod shop/orders-db-0 was admitted (await it):
 *     PodNetwork net = runner.podNetwork("shop", "orders-db-0").orElseThrow();
 *     new ProcessBuilder(net.inside("python3", "-m", "http.server", "--bind", "127.0.0.1", "8080")).start();
 * }
 * }</pre>
 *
 * <p>Register images and set options before {@link #start()}; {@link #image} may also be called later,
 * for containers started after that.
 */
public final class LocalPodRunner implements AutoCloseable {
    /** The scheduler name of pods that no {@code schedulerName} names. */
    public static final String DEFAULT_SCHEDULER = "default-scheduler";
    private static final Logger log = LoggerFactory.getLogger(LocalPodRunner.class);
    private static final long RESYNC_MILLIS = 10_000;

    private final KubernetesClient client;
    private final String nodeName;
    private final Map<String, ImageCommand> images = new ConcurrentHashMap<>();
    private final Map<String, LocalPod> pods = new ConcurrentHashMap<>();
    private final Clock clock = Clock.systemUTC();
    private String namespace;
    private Path sandboxRoot = Path.of("target", "pods");
    private Duration stopGrace = Duration.ofSeconds(5);
    private NetworkMode networkMode = NetworkMode.AUTO;

    private volatile boolean started;
    private volatile boolean closed;
    private ExecutorService events;
    private SharedIndexInformer<Pod> informer;
    private PodNetworks networks;
    private HostLock hostLock;
    private NodeRegistration node;
    private StatusWriter statusWriter;
    private EnvResolver envResolver;
    private String hostAddress;
    private Thread shutdownHook;

    /** A runner for {@code nodeName}, acting through {@code client} (which needs rights over nodes, pods, bindings, secrets and configmaps). */
    public LocalPodRunner(KubernetesClient client, String nodeName) {
        this.client = Objects.requireNonNull(client, "client");
        this.nodeName = Objects.requireNonNull(nodeName, "nodeName");
    }

    /** Runs {@code command} for containers whose image is exactly {@code image}. Returns this runner. */
    public LocalPodRunner image(String image, ImageCommand command) {
        images.put(Objects.requireNonNull(image, "image"), Objects.requireNonNull(command, "command"));
        return this;
    }

    /** Binds and runs only the pods of {@code namespace} (default: all namespaces). */
    public LocalPodRunner onlyNamespace(String namespace) {
        requireNotStarted();
        this.namespace = namespace;
        return this;
    }

    /** Where container sandboxes go; default {@code target/pods} of the working directory. */
    public LocalPodRunner sandboxRoot(Path root) {
        requireNotStarted();
        this.sandboxRoot = root;
        return this;
    }

    /** How long a stopped container gets between SIGTERM and SIGKILL; default 5 s (less when the pod's grace period is shorter). */
    public LocalPodRunner stopGrace(Duration grace) {
        requireNotStarted();
        this.stopGrace = grace;
        return this;
    }

    public LocalPodRunner network(NetworkMode mode) {
        requireNotStarted();
        this.networkMode = mode;
        return this;
    }

    /**
     * Sets up the network (removing leftovers of a killed run), registers the Node and starts watching pods.
     * Returns once the pod informer has synced.
     *
     * @throws IllegalStateException in {@link NetworkMode#NAMESPACES} when namespaces cannot be created, or
     *                               when another runner owns the host's pod networks
     */
    public LocalPodRunner start() {
        requireNotStarted();
        started = true;
        this.sandboxRoot = sandboxRoot.toAbsolutePath().normalize();
        setUpNetwork();
        try {
            node = new NodeRegistration(client, nodeName);
            node.register(hostAddress, isolated());
            statusWriter = new StatusWriter(client, hostAddress, clock);
            envResolver = new EnvResolver(new ApiObjects(client));
            events = Executors.newSingleThreadExecutor(runnable -> {
                Thread thread = new Thread(runnable, "local-pod-runner-" + nodeName);
                thread.setDaemon(true);
                return thread;
            });
            shutdownHook = new Thread(this::close, "local-pod-runner-stop");
            Runtime.getRuntime().addShutdownHook(shutdownHook);
            var pods = namespace == null ? client.pods().inAnyNamespace() : client.pods().inNamespace(namespace);
            informer = pods.inform(new PodEvents(), RESYNC_MILLIS);
            informer.start().toCompletableFuture().get(30, TimeUnit.SECONDS);
            log.atInfo().addKeyValue("node", nodeName).addKeyValue("hostAddress", hostAddress)
                    .addKeyValue("isolated", isolated()).addKeyValue("namespace", namespace == null ? "*" : namespace)
                    .log("local pod runner started");
            return this;
        } catch (Exception e) {
            close();
            throw e instanceof RuntimeException re ? re : new IllegalStateException("cannot start the local pod runner: " + e, e);
        }
    }

    private void setUpNetwork() {
        boolean canIsolate = HostCommands.runningAsRoot() && HostCommands.ipInstalled();
        if (networkMode == NetworkMode.HOST_LOOPBACK || (networkMode == NetworkMode.AUTO && !canIsolate)) {
            hostAddress = PodNetwork.HOST_LOOPBACK.podIp();
            if (networkMode == NetworkMode.AUTO) {
                log.warn("local pod runner cannot create network namespaces ({}): pods share the host's loopback "
                        + "(pod IP 127.0.0.1), so nothing isolates them", HostCommands.runningAsRoot()
                        ? "iproute2's ip is not installed; scripts/setup-services.sh installs it" : "not running as root");
            }
            return;
        }
        if (!canIsolate) {
            throw new IllegalStateException("network namespaces need root and iproute2 (scripts/setup-services.sh installs it)");
        }
        hostLock = HostLock.acquire();
        try {
            networks = new PodNetworks(new HostCommands(), HostCommands.ip());
            networks.setUp();
            hostAddress = networks.hostAddress();
        } catch (RuntimeException e) {
            if (networks != null) {
                networks.tearDown();
                networks = null;
            }
            hostLock.close();
            hostLock = null;
            if (networkMode == NetworkMode.NAMESPACES) {
                throw e;
            }
            hostAddress = PodNetwork.HOST_LOOPBACK.podIp();
            log.warn("local pod runner cannot create network namespaces ({}): pods share the host's loopback "
                    + "(pod IP 127.0.0.1), so nothing isolates them", e.getMessage());
        }
    }

    public String nodeName() {
        return nodeName;
    }

    /** Where pods reach the host: 10.244.0.1 (the bridge) when isolated, else 127.0.0.1. Bind the relay here. */
    public String hostAddress() {
        requireStarted();
        return hostAddress;
    }

    /** Whether pods get their own network namespaces (else they share the host's loopback). */
    public boolean isolated() {
        return networks != null;
    }

    /** The network of a pod running on this node, if the runner admitted it. */
    public Optional<PodNetwork> podNetwork(Pod pod) {
        return Optional.ofNullable(pods.get(pod.getMetadata().getUid())).map(LocalPod::network);
    }

    /** The network of the pod {@code namespace/name} running on this node, if the runner admitted it. */
    public Optional<PodNetwork> podNetwork(String namespace, String name) {
        return find(namespace, name).map(LocalPod::network);
    }

    /**
     * The PID of the process the runner runs for a container or ephemeral container, while it runs. Empty
     * when the pod or container is unknown, runs without a process (unknown image), or has ended.
     */
    public OptionalLong containerPid(String namespace, String pod, String container) {
        return find(namespace, pod).flatMap(p -> p.run(container))
                .filter(ContainerRun::isRunning).map(ContainerRun::pid).orElse(OptionalLong.empty());
    }

    /** The sandbox directory of a container: its working directory, {@code stdout.log} and {@code stderr.log}. */
    public Path sandbox(String namespace, String pod, String container) {
        return sandboxRoot.resolve(namespace + "_" + pod).resolve(container);
    }

    private Optional<LocalPod> find(String namespace, String name) {
        return pods.values().stream().filter(p -> p.namespace().equals(namespace) && p.name().equals(name)).findFirst();
    }

    // ---- event handling: everything below runs on the single event thread ----

    private final class PodEvents implements ResourceEventHandler<Pod> {
        @Override
        public void onAdd(Pod pod) {
            submit(() -> reconcile(pod));
        }

        @Override
        public void onUpdate(Pod oldPod, Pod newPod) {
            submit(() -> reconcile(newPod));
        }

        @Override
        public void onDelete(Pod pod, boolean deletedFinalStateUnknown) {
            submit(() -> forget(pod.getMetadata().getUid()));
        }
    }

    private void submit(Runnable task) {
        if (closed) {
            return;
        }
        try {
            events.execute(() -> {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    log.atWarn().setCause(e).log("local pod runner: event handling failed: {}", e.getMessage());
                }
            });
        } catch (RejectedExecutionException e) {
            // closing
        }
    }

    private void reconcile(Pod pod) {
        if (closed) {
            return;
        }
        String boundTo = pod.getSpec().getNodeName();
        if (boundTo == null || boundTo.isEmpty()) {
            bindIfOurs(pod);
            return;
        }
        if (!boundTo.equals(nodeName)) {
            return;
        }
        String uid = pod.getMetadata().getUid();
        LocalPod local = pods.get(uid);
        if (pod.getMetadata().getDeletionTimestamp() != null) {
            finishDeletion(pod, local);
            return;
        }
        if (local == null) {
            String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
            if ("Succeeded".equals(phase) || "Failed".equals(phase)) {
                return;
            }
            local = admit(pod);
        }
        for (Container container : pod.getSpec().getContainers()) {
            startIfDue(pod, local, container.getName(), container.getImage(), false, container.getArgs(),
                    container.getCommand(), container.getEnv(), container.getEnvFrom());
        }
        for (EphemeralContainer container : nullToEmpty(pod.getSpec().getEphemeralContainers())) {
            startIfDue(pod, local, container.getName(), container.getImage(), true, container.getArgs(),
                    container.getCommand(), container.getEnv(), container.getEnvFrom());
        }
        if (local.takeChanged()) {
            statusWriter.write(local);
        }
    }

    private void bindIfOurs(Pod pod) {
        String scheduler = pod.getSpec().getSchedulerName();
        if (pod.getMetadata().getDeletionTimestamp() != null
                || (scheduler != null && !scheduler.isEmpty() && !scheduler.equals(DEFAULT_SCHEDULER))) {
            return;
        }
        try {
            client.bindings().inNamespace(pod.getMetadata().getNamespace()).resource(new BindingBuilder()
                    .withNewMetadata().withName(pod.getMetadata().getName()).withUid(pod.getMetadata().getUid()).endMetadata()
                    .withNewTarget().withApiVersion("v1").withKind("Node").withName(nodeName).endTarget()
                    .build()).create();
            log.atInfo().addKeyValue("pod", key(pod)).addKeyValue("node", nodeName).log("bound pod");
        } catch (KubernetesClientException e) {
            // 409: already bound (by us on an earlier event, or by someone else); 404: gone
            log.atDebug().addKeyValue("pod", key(pod)).log("not bound: {}", e.getMessage());
        }
    }

    private LocalPod admit(Pod pod) {
        PodNetwork network = networks == null ? PodNetwork.HOST_LOOPBACK : networks.create(pod.getMetadata().getUid());
        LocalPod local = new LocalPod(pod.getMetadata().getNamespace(), pod.getMetadata().getName(),
                pod.getMetadata().getUid(), network, clock.instant());
        pods.put(local.uid(), local);
        log.atInfo().addKeyValue("pod", key(pod)).addKeyValue("podIP", network.podIp())
                .addKeyValue("netns", network.netns().orElse("(host)")).log("admitted pod");
        return local;
    }

    private void startIfDue(Pod pod, LocalPod local, String name, String image, boolean ephemeral, List<String> args,
                            List<String> command, List<EnvVar> env, List<EnvFromSource> envFrom) {
        Optional<ContainerRun> known = local.run(name);
        if (known.isPresent() && known.get().state() != ContainerRun.State.WAITING) {
            return;
        }
        Instant now = clock.instant();
        ImageCommand imageCommand = images.get(image);
        if (imageCommand == null) {
            local.update(ContainerRun.running(name, image, ephemeral, now, OptionalLong.empty()));
            log.atInfo().addKeyValue("pod", key(pod)).addKeyValue("container", name).addKeyValue("image", image)
                    .log("unknown image: container reported running without a process");
            return;
        }
        Map<String, String> environment;
        try {
            environment = new HashMap<>(envResolver.resolve(local.namespace(), envFrom, env, fields(pod, local)));
        } catch (EnvResolver.ConfigException e) {
            ContainerRun waiting = ContainerRun.waiting(name, image, ephemeral, "CreateContainerConfigError", e.getMessage());
            if (!known.equals(Optional.of(waiting))) {
                local.update(waiting);
                log.atWarn().addKeyValue("pod", key(pod)).addKeyValue("container", name)
                        .log("cannot build the container's environment (retried on the next pod event): {}", e.getMessage());
            }
            return;
        }
        environment.putIfAbsent("HOSTNAME", local.name());
        if (command != null && !command.isEmpty()) {
            log.atInfo().addKeyValue("pod", key(pod)).addKeyValue("container", name)
                    .log("container command {} ignored: the image's local entrypoint runs", command);
        }
        List<String> expandedArgs = new ArrayList<>();
        for (String arg : args == null ? List.<String>of() : args) {
            expandedArgs.add(EnvResolver.expand(arg, environment));
        }
        try {
            ContainerProcess process = ContainerProcess.start(imageCommand.commandLine(expandedArgs), environment,
                    sandbox(local.namespace(), local.name(), name), local.network());
            local.attach(name, process);
            local.update(ContainerRun.running(name, image, ephemeral, now, OptionalLong.of(process.pid())));
            process.exit().thenAccept(code -> submit(() -> exited(local, name, code)));
            log.atInfo().addKeyValue("pod", key(pod)).addKeyValue("container", name).addKeyValue("pid", process.pid())
                    .addKeyValue("sandbox", sandbox(local.namespace(), local.name(), name)).log("started container");
        } catch (RuntimeException e) {
            local.update(ContainerRun.waiting(name, image, ephemeral, "RunContainerError", e.getMessage()));
            log.atWarn().addKeyValue("pod", key(pod)).addKeyValue("container", name).log("cannot start: {}", e.getMessage());
        }
    }

    private void exited(LocalPod local, String container, int code) {
        local.detach(container);
        Optional<ContainerRun> run = local.run(container);
        if (run.isEmpty() || !run.get().isRunning() || pods.get(local.uid()) != local) {
            return;
        }
        local.update(run.get().terminated(code, clock.instant()));
        log.atInfo().addKeyValue("pod", local.namespace() + "/" + local.name()).addKeyValue("container", container)
                .addKeyValue("exitCode", code).log("container exited");
        if (local.takeChanged()) {
            statusWriter.write(local);
        }
    }

    /** The pod has a deletion timestamp: stop its processes, then remove it from the API server (the kubelet's part). */
    private void finishDeletion(Pod pod, LocalPod local) {
        if (local != null) {
            long podGrace = pod.getMetadata().getDeletionGracePeriodSeconds() == null ? Long.MAX_VALUE
                    : pod.getMetadata().getDeletionGracePeriodSeconds();
            stopAll(local, Duration.ofSeconds(Math.max(1, Math.min(podGrace, stopGrace.toSeconds()))));
        }
        try {
            client.pods().inNamespace(pod.getMetadata().getNamespace()).withName(pod.getMetadata().getName())
                    .withGracePeriod(0).delete();
        } catch (KubernetesClientException e) {
            log.atDebug().addKeyValue("pod", key(pod)).log("final delete failed: {}", e.getMessage());
        }
    }

    /** The pod is gone from the API server: stop what still runs and delete its network. */
    private void forget(String uid) {
        LocalPod local = pods.remove(uid);
        if (local == null) {
            return;
        }
        stopAll(local, stopGrace);
        if (networks != null) {
            networks.delete(uid, local.network());
        }
        log.atInfo().addKeyValue("pod", local.namespace() + "/" + local.name()).log("removed pod");
    }

    private static void stopAll(LocalPod local, Duration grace) {
        List<CompletableFuture<Void>> stopping = new ArrayList<>();
        local.processes().forEach((name, process) -> stopping.add(CompletableFuture.runAsync(() -> process.stop(grace))));
        CompletableFuture.allOf(stopping.toArray(CompletableFuture[]::new)).join();
    }

    private Map<String, String> fields(Pod pod, LocalPod local) {
        Map<String, String> fields = new HashMap<>();
        fields.put("metadata.name", local.name());
        fields.put("metadata.namespace", local.namespace());
        fields.put("metadata.uid", local.uid());
        fields.put("spec.nodeName", nodeName);
        fields.put("spec.serviceAccountName", Objects.requireNonNullElse(pod.getSpec().getServiceAccountName(), "default"));
        fields.put("status.podIP", local.network().podIp());
        fields.put("status.hostIP", hostAddress);
        return fields;
    }

    /**
     * Stops every process (SIGTERM, then SIGKILL after the grace), deletes every pod network and the bridge,
     * and deletes the Node. Pods stay in the API server as they are. Idempotent.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (informer != null) {
            informer.close();
        }
        if (events != null) {
            events.shutdown();
            try {
                events.awaitTermination(stopGrace.toMillis() + 10_000, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        List<CompletableFuture<Void>> stopping = new ArrayList<>();
        for (LocalPod local : pods.values()) {
            stopping.add(CompletableFuture.runAsync(() -> stopAll(local, stopGrace)));
        }
        CompletableFuture.allOf(stopping.toArray(CompletableFuture[]::new)).join();
        if (networks != null) {
            for (LocalPod local : pods.values()) {
                networks.delete(local.uid(), local.network());
            }
            networks.tearDown();
        }
        pods.clear();
        if (hostLock != null) {
            hostLock.close();
        }
        if (node != null) {
            try {
                node.deregister();
            } catch (KubernetesClientException e) {
                log.atDebug().log("node not deleted: {}", e.getMessage());
            }
        }
        if (shutdownHook != null && Thread.currentThread() != shutdownHook) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException e) {
                // the JVM is shutting down already
            }
        }
        log.atInfo().addKeyValue("node", nodeName).log("local pod runner stopped");
    }

    private void requireNotStarted() {
        if (started) {
            throw new IllegalStateException("already started");
        }
    }

    private void requireStarted() {
        if (!started) {
            throw new IllegalStateException("not started");
        }
    }

    private static String key(Pod pod) {
        return pod.getMetadata().getNamespace() + "/" + pod.getMetadata().getName();
    }

    private static <T> List<T> nullToEmpty(List<T> list) {
        return list == null ? List.of() : list;
    }

    /** Secrets and ConfigMaps as the kubelet reads them for a container's environment. */
    private record ApiObjects(KubernetesClient client) implements EnvResolver.Objects {
        @Override
        public Optional<Map<String, String>> secret(String namespace, String name) {
            Secret secret = client.secrets().inNamespace(namespace).withName(name).get();
            if (secret == null) {
                return Optional.empty();
            }
            Map<String, String> data = new HashMap<>();
            if (secret.getData() != null) {
                secret.getData().forEach((k, v) -> data.put(k, new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8)));
            }
            if (secret.getStringData() != null) {
                data.putAll(secret.getStringData());
            }
            return Optional.of(data);
        }

        @Override
        public Optional<Map<String, String>> configMap(String namespace, String name) {
            ConfigMap map = client.configMaps().inNamespace(namespace).withName(name).get();
            return map == null ? Optional.empty() : Optional.of(map.getData() == null ? Map.of() : map.getData());
        }
    }
}
