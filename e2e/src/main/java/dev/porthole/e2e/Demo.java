package dev.porthole.e2e;

import dev.porthole.api.v1alpha1.Phase;
import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.e2e.podrunner.PodNetwork;
import dev.porthole.e2e.system.LocalPorthole;
import dev.porthole.e2e.system.TargetServers;
import dev.porthole.testcluster.Identity;
import dev.porthole.testcluster.ManagedProcess;
import dev.porthole.testcluster.TestCluster;
import io.fabric8.kubernetes.api.model.events.v1.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.function.Supplier;

/**
 * The local demo, end to end: a real control plane, the local pod runner (a network namespace per
 * pod), the operator process, a real PostgreSQL inside the target pod bound to its own 127.0.0.1,
 * {@code examples/postgres-debug.yaml} applied by alice with a one-minute TTL, {@code porthole connect}
 * and a real {@code psql} through the forward, the audit Events as they happen, and the live session
 * cut at expiry. Everything it started is stopped at the end.
 */
public final class Demo {
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss");
    private static final int PG_PORT = 5432;

    private Demo() {
    }

    public static void main(String[] args) throws Exception {
        // before any logger exists: the relay and agent jars carry their own logback.xml for standalone use
        System.setProperty("logback.configurationFile", "porthole-demo-logback.xml");
        Path work = Path.of("e2e", "target", "demo").toAbsolutePath();
        say("starting a local Kubernetes control plane, the pod runner and the Porthole operator ...");
        try (LocalPorthole sys = LocalPorthole.start(work)) {
            TestCluster cluster = sys.cluster();
            KubernetesClient admin = cluster.admin();
            say("control plane ready in %d ms; look around with:", cluster.startupTime().toMillis());
            say("    %s --kubeconfig %s --context alice get pf -A", cluster.kubectlBinary(), cluster.kubeconfig());
            say("operator running (pid %d) as system:serviceaccount:%s:porthole-operator; relay on %s",
                    sys.operator().pid(), LocalPorthole.OPERATOR_NAMESPACE, sys.runner().hostAddress());

            kubectl(cluster, Identity.ADMIN, "create", "namespace", "shop");
            Path podYaml = work.resolve("orders-db-0.yaml");
            Files.writeString(podYaml, """
                    apiVersion: v1
                    kind: Pod
                    metadata: { name: orders-db-0, namespace: shop, labels: { app: orders-db } }
                    spec:
                      containers:
                        - name: postgres
                          image: postgres:15
                          ports: [{ name: postgres, containerPort: 5432 }]
                    """);
            kubectl(cluster, Identity.ADMIN, "apply", "-f", podYaml.toString());
            PodNetwork net = waitFor("pod network", Duration.ofSeconds(30),
                    () -> sys.runner().podNetwork("shop", "orders-db-0").orElse(null));
            say("pod shop/orders-db-0 runs in its own network namespace (%s, IP %s)", net.netns().orElse("host"), net.podIp());
            try (ManagedProcess pg = TargetServers.postgres(net, work.resolve("orders-db-0"), PG_PORT);
                 Watch events = admin.events().v1().events().inNamespace("shop").watch(new EventPrinter())) {
                say("PostgreSQL listens on the pod's 127.0.0.1:%d only: nothing outside the pod can reach it", PG_PORT);

                String manifest = Files.readString(sys.root().resolve("examples/postgres-debug.yaml")).replace("ttl: 30m", "ttl: 1m");
                Path applied = work.resolve("postgres-debug.yaml");
                Files.writeString(applied, manifest);
                say("alice: kubectl porthole create -f examples/postgres-debug.yaml   (ttl shortened to 1m for the demo)");
                ManagedProcess create = sys.porthole(Identity.ALICE, "create", "-f", applied.toString());
                System.out.print(indent(create.stdout() + create.stderr()));
                if (create.awaitExit(Duration.ofSeconds(1)) != 0) {
                    throw new IllegalStateException("porthole create failed: " + create.stderr());
                }
                say("the API server recorded alice as its creator and checked that she may port-forward to orders-db-0 herself");
                PortForward pf = waitFor("forward Active with its agent connected", Duration.ofSeconds(60), () -> {
                    PortForward f = admin.resources(PortForward.class).inNamespace("shop").withName("orders-db-debug").get();
                    boolean ready = f != null && f.getStatus() != null && f.getStatus().getPhase() == Phase.Active
                            && f.getStatus().getConditions().stream()
                                    .anyMatch(c -> "AgentConnected".equals(c.getType()) && "True".equals(c.getStatus()));
                    return ready ? f : null;
                });
                System.out.print(indent(cluster.kubectl(Identity.ALICE, "get", "pf", "-n", "shop").stdout()));

                int local = LocalPorthole.freePort();
                say("alice: kubectl porthole connect shop/orders-db-debug --local-port %d", local);
                ManagedProcess cli = sys.connect(Identity.ALICE, "shop/orders-db-debug", local);
                System.out.print(indent(cli.awaitOutput(out -> out.contains("Forwarding"), Duration.ofSeconds(60))));
                say("alice: psql -h 127.0.0.1 -p %d -U postgres -d app -c 'SELECT * FROM orders'", local);
                System.out.print(indent(TargetServers.run(TargetServers.psql(local, "-c", "SELECT * FROM orders"),
                        Duration.ofSeconds(30))));

                Instant expiresAt = Instant.parse(pf.getStatus().getExpiresAt());
                say("alice starts a long query; the forward expires at %s ...", expiresAt);
                ManagedProcess live = TargetServers.psqlSession("psql-live", local, "SELECT pg_sleep(600)", work.resolve("logs"));
                live.awaitExit(Duration.ofSeconds(120));
                say("the live psql session was cut %d ms after expiresAt: %s", Duration.between(expiresAt, Instant.now()).toMillis(),
                        live.stderr().lines().findFirst().orElse("").trim());
                cli.awaitExit(Duration.ofSeconds(10));
                say("porthole connect exited: %s", cli.stderr().lines().reduce((a, b) -> b).orElse("").trim());
                waitFor("forward deleted", Duration.ofSeconds(10),
                        () -> admin.resources(PortForward.class).inNamespace("shop").withName("orders-db-debug").get() == null ? true : null);
                say("kubectl get pf,secrets -n shop");
                System.out.print(indent(cluster.kubectl(Identity.ADMIN, "get", "pf,secrets", "-n", "shop").stderr()));
            }
        }
        say("everything this demo started is stopped. Done.");
        System.exit(0);
    }

    private static void kubectl(TestCluster cluster, Identity as, String... args) {
        TestCluster.KubectlResult r = cluster.kubectl(as, args);
        System.out.print(indent(r.succeeded() ? r.stdout() : r.stderr()));
        if (!r.succeeded()) {
            throw new IllegalStateException("kubectl " + String.join(" ", args) + " failed");
        }
    }

    private static <T> T waitFor(String what, Duration timeout, Supplier<T> probe) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            T value = probe.get();
            if (value != null) {
                return value;
            }
            Thread.sleep(200); // a poll interval for a human-facing demo, not a test condition
        }
        throw new IllegalStateException("gave up waiting for " + what + " after " + timeout);
    }

    static void say(String format, Object... args) {
        System.out.println(LocalTime.now().format(CLOCK) + "  " + String.format(format, args));
    }

    private static String indent(String text) {
        return text.lines().map(l -> "          " + l + "\n").reduce("", String::concat);
    }

    private static final class EventPrinter implements Watcher<Event> {
        @Override
        public void eventReceived(Action action, Event e) {
            if (action == Action.ADDED && "porthole.dev/operator".equals(e.getReportingController())) {
                say("EVENT %-17s %s", e.getReason(), e.getNote());
            }
        }

        @Override
        public void onClose(WatcherException cause) {
        }
    }
}
