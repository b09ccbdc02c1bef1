package dev.porthole.e2e.system;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.porthole.api.v1alpha1.Phase;
import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.e2e.podrunner.PodNetwork;
import dev.porthole.testcluster.Creators;
import dev.porthole.testcluster.Identity;
import dev.porthole.testcluster.ManagedProcess;
import dev.porthole.testcluster.TestCluster;
import dev.porthole.testcluster.TestNamespace;
import io.fabric8.kubernetes.api.model.events.v1.Event;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;

/**
 * One whole Porthole per test JVM ({@link LocalPorthole} on the shared control plane) and the steps
 * E2E tests share: pods and forwards applied as manifests with the cluster's kubectl, as a user would.
 */
final class E2eFixture {
    private static LocalPorthole system;

    private E2eFixture() {
    }

    static synchronized LocalPorthole system(TestCluster cluster) {
        if (system == null) {
            system = LocalPorthole.start(cluster, Path.of("target", "e2e").toAbsolutePath());
            Runtime.getRuntime().addShutdownHook(new Thread(system::close, "e2e-system-stop"));
        }
        return system;
    }

    /** A pod (its app container stands for the server the test starts in the pod's network). */
    static PodNetwork pod(LocalPorthole sys, TestNamespace ns, String name, String portName, int port) {
        apply(sys, Identity.ADMIN, ns, """
                apiVersion: v1
                kind: Pod
                metadata: { name: %s, labels: { app: %s } }
                spec:
                  terminationGracePeriodSeconds: 1
                  containers:
                    - name: app
                      image: example.invalid/app:1
                      ports: [{ name: %s, containerPort: %d }]
                """.formatted(name, name, portName, port));
        return await().atMost(Duration.ofSeconds(30)).until(() -> sys.runner().podNetwork(ns.name(), name).orElse(null),
                net -> net != null && net.isolated());
    }

    /** Applies a forward as alice (who, in on-call, may port-forward) and waits until it is Active with its agent connected. */
    static PortForward activeForward(LocalPorthole sys, TestNamespace ns, String name, String pod, int port, String ttl,
                                     String extraSpec) {
        apply(sys, Identity.ALICE, ns, forwardYaml(name, pod, port, ttl, extraSpec));
        return await().atMost(Duration.ofSeconds(60)).until(() -> get(sys, ns, name), pf -> pf != null && pf.getStatus() != null
                && pf.getStatus().getPhase() == Phase.Active
                && pf.getStatus().getConditions().stream().anyMatch(c -> "AgentConnected".equals(c.getType()) && "True".equals(c.getStatus())));
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

    /** Opens {@code porthole connect} as {@code user} and waits until it forwards. */
    static ManagedProcess connected(LocalPorthole sys, Identity user, TestNamespace ns, String forward, int localPort) {
        ManagedProcess cli = sys.connect(user, ns.name() + "/" + forward, localPort);
        cli.awaitOutput(out -> out.contains("Forwarding 127.0.0.1:" + localPort), Duration.ofSeconds(60));
        return cli;
    }

    static String psql(int port, String sql) {
        return TargetServers.run(TargetServers.psql(port, "-At", "-v", "ON_ERROR_STOP=1", "-c", sql), Duration.ofSeconds(30)).trim();
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

    static Path dir(LocalPorthole sys, TestNamespace ns, String what) {
        return sys.workDir().resolve("targets").resolve(ns.name()).resolve(what);
    }
}
