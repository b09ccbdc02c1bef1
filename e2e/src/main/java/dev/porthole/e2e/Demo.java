package dev.porthole.e2e;

import dev.porthole.api.v1alpha1.Phase;
import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.e2e.system.HostClients;
import dev.porthole.e2e.system.LocalPorthole;
import dev.porthole.testcluster.FreePorts;
import dev.porthole.testcluster.Identity;
import dev.porthole.testcluster.NodePods;
import dev.porthole.testcluster.RealNode;
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
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The local demo, end to end: a real control plane and a real node (kubelet, containerd, runc), the operator
 * process, a PostgreSQL pod from the image built here listening on its own 127.0.0.1 only,
 * {@code examples/postgres-debug.yaml} applied by alice with a one-minute TTL, the agent the kubelet runs as an
 * ephemeral container, {@code porthole connect} and a real {@code psql} through the forward, the audit Events as
 * they happen, and the live session cut at expiry. Everything it started is stopped at the end.
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
        say("starting a local Kubernetes control plane, a real node (kubelet, containerd) and the Porthole operator ...");
        try (LocalPorthole sys = LocalPorthole.start(work)) {
            TestCluster cluster = sys.cluster();
            KubernetesClient admin = cluster.admin();
            say("control plane and node %s ready in %d ms; look around with:", RealNode.NAME, cluster.startupTime().toMillis());
            say("    %s --kubeconfig %s --context alice get pf -A", cluster.kubectlBinary(), cluster.kubeconfig());
            say("operator running (pid %d) as system:serviceaccount:%s:porthole-operator", sys.operator().pid(),
                    LocalPorthole.OPERATOR_NAMESPACE);
            say("relay running (pid %d) as system:serviceaccount:%s:porthole-relay on %s",
                    sys.relay().orElseThrow().pid(), LocalPorthole.OPERATOR_NAMESPACE, sys.relayAddress());

            kubectl(cluster, Identity.ADMIN, "create", "namespace", "shop");
            Path podYaml = work.resolve("orders-db-0.yaml");
            Files.writeString(podYaml, NodePods.postgres("orders-db-0").replace("metadata: {", "metadata: { namespace: shop,"));
            kubectl(cluster, Identity.ADMIN, "apply", "-f", podYaml.toString());
            admin.pods().inNamespace("shop").withName("orders-db-0").waitUntilReady(120, TimeUnit.SECONDS);
            kubectl(cluster, Identity.ADMIN, "exec", "-n", "shop", "orders-db-0", "--", "psql", "-h", "127.0.0.1", "-U", "postgres",
                    "-q", "-c", "CREATE DATABASE app");
            kubectl(cluster, Identity.ADMIN, "exec", "-n", "shop", "orders-db-0", "--", "psql", "-h", "127.0.0.1", "-U", "postgres",
                    "-d", "app", "-q", "-c", "CREATE TABLE orders(id int primary key, state text);"
                            + " INSERT INTO orders VALUES (4821, 'stuck in migration')");
            say("pod shop/orders-db-0 runs on node %s (IP %s); PostgreSQL listens on the pod's 127.0.0.1:%d only,",
                    RealNode.NAME, admin.pods().inNamespace("shop").withName("orders-db-0").get().getStatus().getPodIP(), PG_PORT);
            say("so nothing outside the pod can reach it");
            try (Watch events = admin.events().v1().events().inNamespace("shop").watch(new EventPrinter())) {
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

                int local = FreePorts.next();
                say("alice: kubectl porthole connect shop/orders-db-debug --local-port %d", local);
                ManagedProcess cli = sys.connect(Identity.ALICE, "shop/orders-db-debug", local);
                System.out.print(indent(cli.awaitOutput(out -> out.contains("Forwarding"), Duration.ofSeconds(60))));
                say("alice: psql -h 127.0.0.1 -p %d -U postgres -d app -c 'SELECT * FROM orders'", local);
                System.out.print(indent(HostClients.run(HostClients.psql(local, "-c", "SELECT * FROM orders"),
                        Duration.ofSeconds(30))));

                Instant expiresAt = Instant.parse(pf.getStatus().getExpiresAt());
                say("alice starts a long query; the forward expires at %s ...", expiresAt);
                ManagedProcess live = HostClients.psqlSession("psql-live", local, "SELECT pg_sleep(600)", work.resolve("logs"));
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
