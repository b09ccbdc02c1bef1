package dev.porthole.e2e.system;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.porthole.api.v1alpha1.Phase;
import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.testcluster.Creators;
import dev.porthole.testcluster.Identity;
import dev.porthole.testcluster.ManagedProcess;
import dev.porthole.testcluster.NodePods;
import dev.porthole.testcluster.TestCluster;
import dev.porthole.testcluster.TestNamespace;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.events.v1.Event;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * One whole Porthole per test JVM ({@link LocalPorthole} on the shared cluster with its real node) and the steps
 * E2E tests share: target pods from the images built here, forwards applied as manifests with kubectl, as a user
 * would, and the clients Debian packages on the host.
 */
final class E2eFixture {
    static final int POSTGRES_PORT = 5432;
    static final int REDIS_PORT = 6379;
    static final int HTTP_PORT = 8080;
    /** Relay replicas of the shared system, apart from the operator, as the chart's default installs them. */
    static final int RELAY_REPLICAS = 2;
    private static LocalPorthole system;

    private E2eFixture() {
    }

    static synchronized LocalPorthole system(TestCluster cluster) {
        if (system == null) {
            system = LocalPorthole.startOnRealNode(cluster, Path.of("target", "e2e").toAbsolutePath(), RELAY_REPLICAS);
            Runtime.getRuntime().addShutdownHook(new Thread(system::close, "e2e-system-stop"));
        }
        return system;
    }

    /**
     * A PostgreSQL pod on its own 127.0.0.1:5432, with database {@code app} and a table {@code orders} holding
     * one row, made inside the pod (nothing outside it can reach the database).
     */
    static Pod postgres(LocalPorthole sys, TestNamespace ns, String name) {
        Pod pod = ready(sys, ns, name, NodePods.postgres(name));
        inPod(sys, ns, name, "psql", "-h", "127.0.0.1", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-c", "CREATE DATABASE app");
        inPod(sys, ns, name, "psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "app", "-v", "ON_ERROR_STOP=1", "-c",
                "CREATE TABLE orders(id int primary key, state text); INSERT INTO orders VALUES (4821, 'stuck in migration')");
        return pod;
    }

    static Pod redis(LocalPorthole sys, TestNamespace ns, String name) {
        return ready(sys, ns, name, NodePods.redis(name));
    }

    static Pod web(LocalPorthole sys, TestNamespace ns, String name, String greeting) {
        return ready(sys, ns, name, NodePods.web(name, greeting));
    }

    static Pod ready(LocalPorthole sys, TestNamespace ns, String name, String manifest) {
        apply(sys, Identity.ADMIN, ns, manifest);
        return sys.cluster().admin().pods().inNamespace(ns.name()).withName(name).waitUntilReady(90, TimeUnit.SECONDS);
    }

    /** Runs a command in the pod's first container as the cluster's administrator; returns its output. */
    static String inPod(LocalPorthole sys, TestNamespace ns, String pod, String... command) {
        List<String> args = new java.util.ArrayList<>(List.of("exec", "-n", ns.name(), pod, "--"));
        args.addAll(List.of(command));
        TestCluster.KubectlResult r = sys.cluster().kubectl(Identity.ADMIN, args.toArray(String[]::new));
        assertThat(r.succeeded()).as("kubectl exec %s %s: %s", pod, List.of(command), r.stderr()).isTrue();
        return r.stdout();
    }

    /**
     * Applies a forward as alice (who, in on-call, may port-forward) and waits until it is Active with its agent
     * connected to every relay replica (each replica opens sessions only for agents linked to it).
     */
    static PortForward activeForward(LocalPorthole sys, TestNamespace ns, String name, String pod, int port, String ttl,
                                     String extraSpec) {
        apply(sys, Identity.ALICE, ns, forwardYaml(name, pod, port, ttl, extraSpec));
        PortForward active = await().atMost(Duration.ofSeconds(60)).until(() -> get(sys, ns, name), pf -> pf != null
                && pf.getStatus() != null && pf.getStatus().getPhase() == Phase.Active
                && pf.getStatus().getConditions().stream().anyMatch(c -> "AgentConnected".equals(c.getType()) && "True".equals(c.getStatus())));
        awaitLinked(sys, ns, name, RELAY_REPLICAS);
        return active;
    }

    /** Waits until {@code replicas} relay replicas have each reported the forward's agent connected. */
    static void awaitLinked(LocalPorthole sys, TestNamespace ns, String forward, long replicas) {
        await().atMost(Duration.ofSeconds(60)).until(() -> linkedReplicas(sys, ns, forward) >= replicas);
    }

    /** Relay replicas whose latest word on the forward's agent is that it connected. */
    static long linkedReplicas(LocalPorthole sys, TestNamespace ns, String forward) {
        Map<String, String> latest = new java.util.HashMap<>();
        for (Event e : events(sys, ns, forward)) {
            if ("AgentConnected".equals(e.getReason()) || "AgentDisconnected".equals(e.getReason())) {
                latest.put(String.valueOf(e.getReportingInstance()), e.getReason());
            }
        }
        return latest.values().stream().filter("AgentConnected"::equals).count();
    }

    /** Waits until relay replica {@code index} has reported the forward's agent connected since {@code since}. */
    static void awaitLinkedSince(LocalPorthole sys, TestNamespace ns, String forward, int index, java.time.Instant since) {
        String instance = LocalPorthole.relayInstance(index);
        await().atMost(Duration.ofSeconds(60)).until(() -> events(sys, ns, forward).stream()
                .anyMatch(e -> "AgentConnected".equals(e.getReason()) && instance.equals(e.getReportingInstance())
                        && !java.time.Instant.parse(e.getEventTime().getTime()).isBefore(since)));
    }

    /** What an interactive psql printed after {@code marker} on its line (it prints query results as they come). */
    static String afterMarker(ManagedProcess prompt, String marker) {
        String out = prompt.awaitOutput(o -> o.contains(marker) && o.substring(o.indexOf(marker)).contains("\n"),
                Duration.ofSeconds(20));
        String line = out.substring(out.indexOf(marker) + marker.length());
        return line.substring(0, line.indexOf('\n')).strip();
    }

    /** AgentConnected Events of the forward, one per relay replica each time an agent linked it. */
    static long agentLinks(LocalPorthole sys, TestNamespace ns, String forward) {
        return events(sys, ns, forward).stream().filter(e -> "AgentConnected".equals(e.getReason())).count();
    }

    static String forwardYaml(String name, String pod, int port, String ttl, String extraSpec) {
        return """
                apiVersion: porthole.dev/v1alpha1
                kind: PortForward
                metadata: { name: %s }
                spec:
                  %s
                  target: { pod: %s, port: %d }
                  audience: { users: [alice], groups: [sre-oncall] }
                  ttl: %s
                  reason: "e2e"
                %s""".formatted(name, Creators.yaml(Identity.ALICE), pod, port, ttl, extraSpec == null ? "" : extraSpec);
    }

    static TestCluster.KubectlResult apply(LocalPorthole sys, Identity as, TestNamespace ns, String yaml) {
        TestCluster.KubectlResult r = sys.cluster().apply(as, ns.name(), yaml);
        assertThat(r.succeeded()).as("kubectl apply as %s: %s", as.username(), r.stderr()).isTrue();
        return r;
    }

    static PortForward get(LocalPorthole sys, TestNamespace ns, String name) {
        return sys.cluster().admin().resources(PortForward.class).inNamespace(ns.name()).withName(name).get();
    }

    /** The status the kubelet reports for the agent container the operator injected into {@code pod}, once there is one. */
    static Optional<ContainerStatus> agentStatus(LocalPorthole sys, TestNamespace ns, String pod) {
        Pod p = sys.cluster().admin().pods().inNamespace(ns.name()).withName(pod).get();
        if (p == null || p.getStatus() == null || p.getStatus().getEphemeralContainerStatuses() == null) {
            return Optional.empty();
        }
        return p.getStatus().getEphemeralContainerStatuses().stream().filter(s -> s.getName().startsWith("porthole-agent")).findFirst();
    }

    /**
     * The agent container's status once the kubelet reports it running: a connected agent runs, but the kubelet
     * writes that into the pod's status at its own pace.
     */
    static ContainerStatus runningAgent(LocalPorthole sys, TestNamespace ns, String pod) {
        return await().atMost(Duration.ofSeconds(15)).until(() -> agentStatus(sys, ns, pod).orElse(null),
                status -> status != null && status.getState().getRunning() != null);
    }

    /** Opens {@code porthole connect} as {@code user} and waits until it forwards. */
    static ManagedProcess connected(LocalPorthole sys, Identity user, TestNamespace ns, String forward, int localPort) {
        ManagedProcess cli = sys.connect(user, ns.name() + "/" + forward, localPort);
        cli.awaitOutput(out -> out.contains("Forwarding 127.0.0.1:" + localPort), Duration.ofSeconds(60));
        return cli;
    }

    static String psql(int port, String sql) {
        return HostClients.run(HostClients.psql(port, "-At", "-v", "ON_ERROR_STOP=1", "-c", sql), Duration.ofSeconds(30)).trim();
    }

    static List<Event> events(LocalPorthole sys, TestNamespace ns, String forward) {
        return sys.cluster().admin().events().v1().events().inNamespace(ns.name()).withLabel("porthole.dev/forward", forward)
                .list().getItems().stream().sorted(Comparator.comparing(e -> e.getEventTime().getTime())).toList();
    }

    static Event event(LocalPorthole sys, TestNamespace ns, String forward, String reason) {
        return events(sys, ns, forward).stream().filter(e -> reason.equals(e.getReason())).reduce((a, b) -> b)
                .orElseThrow(() -> new AssertionError("no " + reason + " Event for " + forward + ": "
                        + events(sys, ns, forward).stream().map(Event::getReason).toList()));
    }
}
