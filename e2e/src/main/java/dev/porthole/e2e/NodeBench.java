package dev.porthole.e2e;

import dev.porthole.e2e.system.RepoLayout;
import dev.porthole.testcluster.Identity;
import dev.porthole.testcluster.NodeImages;
import dev.porthole.testcluster.TestCluster;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The {@code kubectl port-forward} peer of bench/tunnel-bench.sh: a real node, a pod running the benchmark's
 * server (its classes from a ConfigMap, the JRE of the operator image) bound to the pod's 127.0.0.1, and
 * {@code kubectl port-forward} to it through the real kubelet and containerd. Writes "ready" to the file given
 * once the forward listens, then runs until it is ended (SIGTERM stops everything it started).
 * <pre>NodeBench WORK_DIR BENCH_CLASSES_DIR LOCAL_PORT SERVER_PORT READY_FILE</pre>
 */
public final class NodeBench {
    private NodeBench() {
    }

    public static void main(String[] args) throws Exception {
        Path work = Path.of(args[0]).toAbsolutePath();
        Path classes = Path.of(args[1]);
        int localPort = Integer.parseInt(args[2]);
        int serverPort = Integer.parseInt(args[3]);
        Path ready = Path.of(args[4]);
        TestCluster cluster = TestCluster.startWithNode(work.resolve("cluster"), RepoLayout.root());
        KubernetesClient admin = cluster.admin();
        String ns = cluster.createNamespace("bench");
        Map<String, String> binary = new HashMap<>();
        try (Stream<Path> files = Files.list(classes)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".class")).toList()) {
                binary.put(f.getFileName().toString(), Base64.getEncoder().encodeToString(Files.readAllBytes(f)));
            }
        }
        admin.resource(new ConfigMapBuilder().withNewMetadata().withName("bench-classes").withNamespace(ns).endMetadata()
                .withBinaryData(binary).build()).create();
        admin.resource(new PodBuilder().withNewMetadata().withName("bench-target").withNamespace(ns).endMetadata()
                .withNewSpec().addNewContainer().withName("server").withImage(NodeImages.OPERATOR).withImagePullPolicy("Never")
                .withCommand("/opt/java/bin/java", "-Xmx256m", "-XX:-UsePerfData", "-cp", "/bench", "Bench", "serve",
                        Integer.toString(serverPort))
                .withNewSecurityContext().withRunAsNonRoot(true).withRunAsUser(65532L).withReadOnlyRootFilesystem(true)
                .withAllowPrivilegeEscalation(false).withNewCapabilities().withDrop("ALL").endCapabilities().endSecurityContext()
                .addNewVolumeMount().withName("classes").withMountPath("/bench").endVolumeMount()
                .withNewReadinessProbe().withNewExec().withCommand("/opt/java/bin/java", "-version").endExec().endReadinessProbe()
                .endContainer()
                .addNewVolume().withName("classes").withNewConfigMap().withName("bench-classes").endConfigMap().endVolume()
                .endSpec().build()).create();
        admin.pods().inNamespace(ns).withName("bench-target").waitUntilReady(120, TimeUnit.SECONDS);

        Process pf = new ProcessBuilder(List.of(cluster.kubectlBinary().toString(), "--kubeconfig=" + cluster.kubeconfig(),
                "--context=" + Identity.ADMIN.contextName(), "-n", ns, "port-forward", "--address", "127.0.0.1",
                "pod/bench-target", localPort + ":" + serverPort)).redirectErrorStream(true).start();
        CountDownLatch listening = new CountDownLatch(1);
        Thread out = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(pf.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    System.out.println("kubectl port-forward: " + line);
                    if (line.startsWith("Forwarding from")) {
                        listening.countDown();
                    }
                }
            } catch (java.io.IOException ended) {
                // kubectl exited
            }
        }, "kubectl-port-forward-log");
        out.setDaemon(true);
        out.start();
        if (!listening.await(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("kubectl port-forward did not listen within 60 s");
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            pf.destroy();
            cluster.close();
        }, "node-bench-stop"));
        Files.writeString(ready, "ready " + pf.pid() + "\n");
        Thread.currentThread().join();
    }
}
