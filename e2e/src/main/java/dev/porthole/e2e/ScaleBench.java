package dev.porthole.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.porthole.api.v1alpha1.Phase;
import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.e2e.system.LocalPorthole;
import dev.porthole.operator.OperatorIdentity;
import dev.porthole.testcluster.Creators;
import dev.porthole.testcluster.Identity;
import dev.porthole.testcluster.Kubelet;
import dev.porthole.testcluster.TestCluster;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.BufferedReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The control loop at scale, on the real API server: FORWARDS forwards applied by alice at RATE per second, each to
 * one of FORWARDS/4 pods (the default agents-per-pod limit), with a TTL of TTL_SECONDS; it waits until every one
 * expired and was deleted, then prints one Markdown table: apply→Active and expiresAt→deleted (p50, p99, max, as a
 * watcher sees them), the operator's requests to the API server per forward (from the API server's audit log, watches
 * aside), and the operator process's peak RSS. Pods are API objects reported Running by a stand-in kubelet, so no
 * agent runs: this measures the operator, not the data path.
 * <pre>ScaleBench WORK_DIR FORWARDS RATE TTL_SECONDS</pre>
 */
public final class ScaleBench {
    private static final String OPERATOR_USER = "system:serviceaccount:" + LocalPorthole.OPERATOR_NAMESPACE + ":"
            + OperatorIdentity.SERVICE_ACCOUNT;

    private ScaleBench() {
    }

    public static void main(String[] args) throws Exception {
        Path work = Path.of(args[0]).toAbsolutePath();
        int forwards = Integer.parseInt(args[1]);
        double rate = Double.parseDouble(args[2]);
        int ttlSeconds = Integer.parseInt(args[3]);
        try (TestCluster cluster = TestCluster.startAudited(work.resolve("cluster"));
             LocalPorthole sys = LocalPorthole.startWithoutNode(cluster, work)) {
            KubernetesClient admin = cluster.admin();
            String ns = cluster.createNamespace("scale");
            int pods = (forwards + 3) / 4;
            for (int i = 0; i < pods; i++) {
                Kubelet.runningPod(admin, ns, "target-" + i, Map.of("app", "target"), "pg", 5432);
            }
            Map<String, Instant> applied = new ConcurrentHashMap<>();
            Map<String, Instant> active = new ConcurrentHashMap<>();
            Map<String, Instant> expiresAt = new ConcurrentHashMap<>();
            Map<String, Instant> deleted = new ConcurrentHashMap<>();
            CountDownLatch allDeleted = new CountDownLatch(forwards);
            SharedIndexInformer<PortForward> watcher = admin.resources(PortForward.class).inNamespace(ns)
                    .inform(new Watcher(active, expiresAt, deleted, allDeleted));

            Instant start = Instant.now();
            KubernetesClient alice = cluster.clientFor(Identity.ALICE);
            long t0 = System.nanoTime();
            for (int i = 0; i < forwards; i++) {
                long due = t0 + (long) (i * 1e9 / rate);
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait); // pacing the load generator, not waiting for a condition
                }
                String name = "f-" + i;
                applied.put(name, Instant.now());
                alice.resource(forward(name, ns, "target-" + (i % pods), ttlSeconds)).create();
            }
            Duration budget = Duration.ofSeconds(ttlSeconds + 120);
            if (!allDeleted.await(budget.toSeconds(), TimeUnit.SECONDS)) {
                System.err.printf("only %d of %d forwards were deleted within %s%n", deleted.size(), forwards, budget);
            }
            Instant end = Instant.now();
            watcher.close();
            Map<String, Long> requests = operatorRequests(cluster.auditLog(), start, end);
            long total = requests.values().stream().mapToLong(Long::longValue).sum();
            String rss = peakRss(sys.operator().pid());

            List<Long> toActive = new ArrayList<>();
            applied.forEach((n, at) -> {
                Instant a = active.get(n);
                if (a != null) {
                    toActive.add(Duration.between(at, a).toMillis());
                }
            });
            List<Long> toDeleted = new ArrayList<>();
            expiresAt.forEach((n, at) -> {
                Instant d = deleted.get(n);
                if (d != null) {
                    toDeleted.add(Duration.between(at, d).toMillis());
                }
            });
            System.out.printf("%n%d forwards to %d pods, applied at %.0f/s, ttl %ds; %d became Active, %d were deleted%n%n",
                    forwards, pods, rate, ttlSeconds, toActive.size(), toDeleted.size());
            System.out.println("| measure | p50 | p99 | max |");
            System.out.println("|---|---:|---:|---:|");
            row("apply → Active (ms)", toActive);
            row("expiresAt → deleted (ms)", toDeleted);
            System.out.printf("| operator requests to the API server per forward (watches aside) | %.1f | | |%n",
                    (double) total / forwards);
            System.out.printf("| operator peak RSS | %s | | |%n%n", rss);
            System.out.println("operator requests by verb and resource over the forwards' lives:");
            requests.forEach((k, v) -> System.out.printf("  %-60s %6d  (%.2f per forward)%n", k, v, (double) v / forwards));
        }
        System.exit(0);
    }

    private static PortForward forward(String name, String ns, String pod, int ttlSeconds) {
        return Serialization.unmarshal("""
                apiVersion: porthole.dev/v1alpha1
                kind: PortForward
                metadata: { name: %s, namespace: %s }
                spec:
                  %s
                  target: { pod: %s, port: 5432 }
                  audience: { users: [alice] }
                  ttl: %ds
                  reason: "scale benchmark"
                """.formatted(name, ns, Creators.yaml(Identity.ALICE), pod, ttlSeconds), PortForward.class);
    }

    private static void row(String what, List<Long> values) {
        if (values.isEmpty()) {
            System.out.printf("| %s | – | – | – |%n", what);
            return;
        }
        List<Long> sorted = values.stream().sorted().toList();
        System.out.printf("| %s | %d | %d | %d |%n", what, percentile(sorted, 0.50), percentile(sorted, 0.99),
                sorted.get(sorted.size() - 1));
    }

    private static long percentile(List<Long> sorted, double p) {
        int index = (int) Math.ceil(p * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
    }

    /** The operator's completed requests between {@code from} and {@code to}, by verb and resource; watches aside. */
    private static Map<String, Long> operatorRequests(Path auditLog, Instant from, Instant to) throws Exception {
        ObjectMapper json = new ObjectMapper();
        Map<String, Long> counts = new TreeMap<>();
        try (BufferedReader in = Files.newBufferedReader(auditLog)) {
            String line;
            while ((line = in.readLine()) != null) {
                JsonNode e = json.readTree(line);
                if (!"ResponseComplete".equals(e.path("stage").asText()) || "watch".equals(e.path("verb").asText())
                        || !OPERATOR_USER.equals(e.path("user").path("username").asText())) {
                    continue;
                }
                Instant at = Instant.parse(e.path("requestReceivedTimestamp").asText());
                if (at.isBefore(from) || at.isAfter(to)) {
                    continue;
                }
                JsonNode ref = e.path("objectRef");
                String resource = ref.path("resource").asText("-")
                        + (ref.hasNonNull("subresource") ? "/" + ref.path("subresource").asText() : "");
                counts.merge(e.path("verb").asText() + " " + resource, 1L, Long::sum);
            }
        }
        return counts;
    }

    private static String peakRss(long pid) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmHWM:")) {
                long kib = Long.parseLong(line.replaceAll("[^0-9]", ""));
                return String.format("%.0f MiB", kib / 1024.0);
            }
        }
        return "?";
    }

    /** Records, as a user's watch sees it, when each forward first turns Active, when it expires and when it is gone. */
    private record Watcher(Map<String, Instant> active, Map<String, Instant> expiresAt, Map<String, Instant> deleted,
                           CountDownLatch allDeleted) implements ResourceEventHandler<PortForward> {
        @Override
        public void onAdd(PortForward pf) {
            seen(pf);
        }

        @Override
        public void onUpdate(PortForward old, PortForward pf) {
            seen(pf);
        }

        @Override
        public void onDelete(PortForward pf, boolean deletedFinalStateUnknown) {
            if (deleted.putIfAbsent(pf.getMetadata().getName(), Instant.now()) == null) {
                allDeleted.countDown();
            }
        }

        private void seen(PortForward pf) {
            if (pf.getStatus() == null) {
                return;
            }
            if (pf.getStatus().getPhase() == Phase.Active) {
                active.putIfAbsent(pf.getMetadata().getName(), Instant.now());
            }
            if (pf.getStatus().getExpiresAt() != null) {
                expiresAt.putIfAbsent(pf.getMetadata().getName(), Instant.parse(pf.getStatus().getExpiresAt()));
            }
        }
    }
}
