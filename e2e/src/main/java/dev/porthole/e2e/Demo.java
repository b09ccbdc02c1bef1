package dev.porthole.e2e;

import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.operator.OperatorIdentity;
import dev.porthole.operator.OperatorSettings;
import dev.porthole.operator.PortholeOperator;
import dev.porthole.testcluster.Identity;
import dev.porthole.testcluster.Kubelet;
import dev.porthole.testcluster.TestCluster;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.events.v1.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The local demo: a real control plane on this machine, the operator under its own least-privilege
 * identity, a target pod, and the PortForward of examples/postgres-debug.yaml applied with kubectl
 * and a one-minute TTL. It prints the audit Events as the API server stores them, shows the forward
 * Active, and shows it expire and disappear; then it stops everything it started.
 */
public final class Demo {
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss");

    private Demo() {
    }

    public static void main(String[] args) throws Exception {
        Path root = findRepoRoot();
        say("starting a local Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager) ...");
        try (TestCluster cluster = TestCluster.start(root.resolve("e2e/target/demo-cluster"))) {
            say("control plane ready in %d ms at %s", cluster.startupTime().toMillis(), cluster.apiServerUrl());
            say("look around yourself with: %s --kubeconfig %s get pf -A", cluster.kubectlBinary(), cluster.kubeconfig());
            KubernetesClient admin = cluster.admin();
            admin.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("porthole-system").endMetadata().build()).create();
            admin.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("shop").endMetadata().build()).create();
            OperatorIdentity.bind(admin, "porthole-system");
            KubernetesClient operatorClient = cluster.clientWithToken(
                    cluster.serviceAccountToken("porthole-system", OperatorIdentity.SERVICE_ACCOUNT, Duration.ofHours(1)));
            OperatorSettings settings = new OperatorSettings("porthole-system", "demo", OperatorSettings.DEFAULT_AGENT_IMAGE,
                    "127.0.0.1", 0, 0, "127.0.0.1", "127.0.0.1", java.util.List.of());
            try (PortholeOperator operator = PortholeOperator.start(operatorClient, settings, Clock.systemUTC())) {
                say("operator running as system:serviceaccount:porthole-system:porthole-operator (least-privilege ClusterRole)");
                Kubelet.runningPod(admin, "shop", "orders-db-0", Map.of("app", "orders-db"), "postgres", 5432);
                say("target pod shop/orders-db-0 is Running and Ready (the local kubelet stand-in reports it)");

                var events = admin.events().v1().events().inNamespace("shop").withLabel("porthole.dev/forward", "orders-db-debug")
                        .watch(new EventPrinter());
                String manifest = Files.readString(root.resolve("examples/postgres-debug.yaml")).replace("ttl: 30m", "ttl: 1m");
                Path applied = cluster.workDir().resolve("postgres-debug.yaml");
                Files.writeString(applied, manifest);
                say("kubectl apply -f examples/postgres-debug.yaml   (ttl shortened to 1m for the demo)");
                TestCluster.KubectlResult result = cluster.kubectl(Identity.ADMIN, "apply", "-f", applied.toString());
                System.out.print(indent(result.succeeded() ? result.stdout() : result.stderr()));

                PortForward active = awaitActive(admin);
                say("kubectl get pf -n shop");
                System.out.print(indent(cluster.kubectl(Identity.ADMIN, "get", "pf", "-n", "shop").stdout()));
                say("agent injected as ephemeral container %s in pod %s; it expires at %s",
                        active.getStatus().getAgent().getContainer(), active.getStatus().getAgent().getPod(),
                        active.getStatus().getExpiresAt());
                say("waiting for the expiry ...");
                CountDownLatch gone = new CountDownLatch(1);
                try (var watch = admin.resources(PortForward.class).inNamespace("shop").withName("orders-db-debug")
                        .watch(new DeletionLatch(gone))) {
                    if (admin.resources(PortForward.class).inNamespace("shop").withName("orders-db-debug").get() != null) {
                        gone.await(90, TimeUnit.SECONDS);
                    }
                }
                Instant expiresAt = Instant.parse(active.getStatus().getExpiresAt());
                say("forward deleted %d ms after its expiresAt; its token Secret is garbage-collected with it",
                        Duration.between(expiresAt, Instant.now()).toMillis());
                System.out.print(indent(cluster.kubectl(Identity.ADMIN, "get", "pf,secrets", "-n", "shop").stderr()));
                events.close();
            }
        }
        say("everything this demo started is stopped. Done.");
        System.exit(0);
    }

    private static PortForward awaitActive(KubernetesClient admin) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            PortForward pf = admin.resources(PortForward.class).inNamespace("shop").withName("orders-db-debug").get();
            if (pf != null && pf.getStatus() != null && pf.getStatus().getPhase() != null
                    && pf.getStatus().getPhase().name().equals("Active")) {
                return pf;
            }
            Thread.sleep(200); // a poll interval for a human-facing demo, not a test condition
        }
        throw new IllegalStateException("the forward did not become Active within 30 s");
    }

    private static Path findRepoRoot() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.exists(p.resolve("examples/postgres-debug.yaml"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("run the demo from the Porthole repository (./porthole-demo)");
        }
        return p;
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
            if (action == Action.ADDED) {
                say("EVENT %-14s %s", e.getReason(), e.getNote());
            }
        }

        @Override
        public void onClose(WatcherException cause) {
        }
    }

    private record DeletionLatch(CountDownLatch latch) implements Watcher<PortForward> {
        @Override
        public void eventReceived(Action action, PortForward resource) {
            if (action == Action.DELETED) {
                latch.countDown();
            }
        }

        @Override
        public void onClose(WatcherException cause) {
        }
    }
}
