package dev.porthole.testcluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EphemeralContainerBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.LocalPortForward;
import io.fabric8.kubernetes.client.dsl.ExecWatch;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The real node runs what Porthole needs from a kubelet: pods from images built here, logs, exec,
 * port-forward, an ephemeral container in a pod's network namespace, the pod security context, Services and
 * cluster DNS; and when it stops, the machine is as it was.
 */
class RealNodeIT {
    private static final List<String> HOST_SYSCTLS = List.of("vm/overcommit_memory", "kernel/panic", "kernel/panic_on_oops");
    private static Map<String, String> sysctlsBefore;
    private static TestCluster cluster;
    private static KubernetesClient admin;

    @BeforeAll
    static void startNode() throws Exception {
        sysctlsBefore = readSysctls();
        cluster = TestCluster.startWithNode(Path.of("target", "real-node-cluster"), Path.of("..").toAbsolutePath().normalize());
        admin = cluster.admin();
    }

    @AfterAll
    static void stopNodeAndCheckTheMachineIsUnchanged() throws Exception {
        Path nodeDir = cluster.node().orElseThrow().dir();
        cluster.close();
        assertThat(HostCommand.tryRun("ip", "link", "show", NodeHost.HOST_LINK).exitCode()).as("host link removed").isNotZero();
        assertThat(HostCommand.run("ip", "-4", "route", "show")).doesNotContain(NodeHost.POD_CIDR);
        assertThat(NodeProcesses.under(nodeDir)).as("no process of the node is left").isEmpty();
        assertThat(readSysctls()).as("host sysctls the kubelet would rewrite").isEqualTo(sysctlsBefore);
        assertThat(Path.of("/sys/fs/cgroup/memory", NodeConfigs.CGROUP_ROOT.substring(1))).doesNotExist();
    }

    @Test
    @DisplayName("a pod from an image built here runs; its logs, exec and port-forward work through the kubelet")
    void podLogsExecAndPortForward() throws Exception {
        String ns = cluster.createNamespace("real-node-basics");
        Pod pod = admin.resource(loopbackWebPod(ns, "web")).create();
        awaitReady(ns, pod.getMetadata().getName());

        assertThat(admin.pods().inNamespace(ns).withName("web").getLog()).contains("serving on 127.0.0.1:8080");
        assertThat(exec(ns, "web", "web", "wget", "-q", "-O-", "http://127.0.0.1:8080/")).isEqualTo("hello from 127.0.0.1\n");
        try (LocalPortForward pf = admin.pods().inNamespace(ns).withName("web").portForward(8080)) {
            assertThat(httpGet(pf.getLocalPort())).endsWith("hello from 127.0.0.1\n");
        }
    }

    @Test
    @DisplayName("an ephemeral container shares the target's network namespace and reaches its 127.0.0.1 port")
    void ephemeralContainerReachesLoopback() throws Exception {
        String ns = cluster.createNamespace("real-node-ephemeral");
        admin.resource(loopbackWebPod(ns, "target")).create();
        awaitReady(ns, "target");

        admin.pods().inNamespace(ns).withName("target").ephemeralContainers().edit(p -> new PodBuilder(p).editSpec()
                .addToEphemeralContainers(new EphemeralContainerBuilder().withName("probe").withImage(NodeImages.TOOLS)
                        .withImagePullPolicy("Never")
                        .withCommand("sh", "-c", "wget -q -O- http://127.0.0.1:8080/")
                        .withSecurityContext(hardened()).build())
                .endSpec().build());

        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().untilAsserted(() ->
                assertThat(admin.pods().inNamespace(ns).withName("target").inContainer("probe").getLog())
                        .isEqualTo("hello from 127.0.0.1\n"));
    }

    @Test
    @DisplayName("the security context is enforced: non-root uid, read-only root, and a root image refused under runAsNonRoot")
    void securityContextIsEnforced() throws Exception {
        String ns = cluster.createNamespace("real-node-security");
        admin.resource(loopbackWebPod(ns, "web")).create();
        awaitReady(ns, "web");
        assertThat(exec(ns, "web", "web", "id", "-u")).isEqualTo("65532\n");
        assertThat(exec(ns, "web", "web", "sh", "-c", "touch /x 2>&1; true")).contains("Read-only file system");

        admin.resource(new PodBuilder().withNewMetadata().withName("as-root").withNamespace(ns).endMetadata()
                .withNewSpec().addToContainers(new ContainerBuilder().withName("c").withImage(NodeImages.TOOLS)
                        .withImagePullPolicy("Never").withCommand("sleep", "3600").withSecurityContext(
                                new SecurityContextBuilder().withRunAsNonRoot(true).withRunAsUser(0L).build()).build())
                .endSpec().build()).create();
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            Pod p = admin.pods().inNamespace(ns).withName("as-root").get();
            assertThat(p.getStatus().getContainerStatuses()).isNotEmpty();
            assertThat(p.getStatus().getContainerStatuses().get(0).getState().getWaiting()).isNotNull();
            assertThat(p.getStatus().getContainerStatuses().get(0).getState().getWaiting().getMessage())
                    .contains("breaks non-root policy");
        });
    }

    @Test
    @DisplayName("a pod reaches a Service by its DNS name through its ClusterIP, and the API server through kubernetes.default")
    void servicesAndNamesResolve() throws Exception {
        String ns = cluster.createNamespace("real-node-services");
        admin.resource(new PodBuilder(openWebPod(ns, "backend")).build()).create();
        admin.resource(new ServiceBuilder().withNewMetadata().withName("backend").withNamespace(ns).endMetadata()
                .withNewSpec().withSelector(Map.of("app", "backend")).addNewPort().withPort(80)
                .withNewTargetPort(8080).endPort().endSpec().build()).create();
        admin.resource(loopbackWebPod(ns, "client")).create();
        awaitReady(ns, "backend");
        awaitReady(ns, "client");
        String clusterIp = admin.services().inNamespace(ns).withName("backend").get().getSpec().getClusterIP();

        // busybox's static wget crashes resolving a service port name off loopback; nc speaks the HTTP/1.0 needed
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(exec(ns, "client", "web", "sh", "-c",
                "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 backend." + ns + ".svc.cluster.local 80"))
                .startsWith("HTTP/1.").endsWith("hello from backend\n"));
        assertThat(exec(ns, "client", "web", "busybox", "nslookup", "backend." + ns + ".svc.cluster.local")).contains(clusterIp);
        assertThat(exec(ns, "client", "web", "sh", "-c", "nc -w 3 kubernetes.default.svc 443 </dev/null && echo reachable"))
                .isEqualTo("reachable\n");
    }

    private static Pod loopbackWebPod(String ns, String name) {
        return webPod(ns, name, "127.0.0.1", "hello from 127.0.0.1");
    }

    private static Pod openWebPod(String ns, String name) {
        return webPod(ns, name, "0.0.0.0", "hello from " + name);
    }

    private static Pod webPod(String ns, String name, String bind, String body) {
        return new PodBuilder().withNewMetadata().withName(name).withNamespace(ns).withLabels(Map.of("app", name)).endMetadata()
                .withNewSpec().withTerminationGracePeriodSeconds(0L)
                .addToContainers(new ContainerBuilder().withName("web").withImage(NodeImages.TOOLS).withImagePullPolicy("Never")
                        .withCommand("sh", "-c", "mkdir -p /tmp/www && echo '" + body + "' > /tmp/www/index.html && "
                                + "echo serving on " + bind + ":8080 && exec httpd -f -p " + bind + ":8080 -h /tmp/www")
                        .withSecurityContext(hardened())
                        .addNewVolumeMount().withName("tmp").withMountPath("/tmp").endVolumeMount()
                        .withNewReadinessProbe().withNewExec().withCommand("wget", "-q", "-O", "/dev/null",
                                "http://" + ("0.0.0.0".equals(bind) ? "127.0.0.1" : bind) + ":8080/").endExec()
                        .withPeriodSeconds(1).endReadinessProbe()
                        .build())
                .addNewVolume().withName("tmp").withNewEmptyDir().endEmptyDir().endVolume()
                .endSpec().build();
    }

    private static io.fabric8.kubernetes.api.model.SecurityContext hardened() {
        return new SecurityContextBuilder().withRunAsNonRoot(true).withRunAsUser(65532L).withRunAsGroup(65532L)
                .withReadOnlyRootFilesystem(true).withAllowPrivilegeEscalation(false)
                .withNewCapabilities().withDrop("ALL").endCapabilities()
                .withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile().build();
    }

    private static void awaitReady(String ns, String name) {
        admin.pods().inNamespace(ns).withName(name).waitUntilReady(90, TimeUnit.SECONDS);
    }

    /**
     * Runs {@code cmd} in the container with stderr joined to stdout, and returns all it printed once it exited; a
     * failing command's output is its answer too (the client would otherwise drop it for the non-zero status).
     */
    private static String exec(String ns, String pod, String container, String... cmd) throws Exception {
        List<String> shell = new java.util.ArrayList<>(List.of("sh", "-c", "\"$@\" 2>&1; exit 0", "sh"));
        shell.addAll(List.of(cmd));
        String[] withName = shell.toArray(String[]::new);
        try (ExecWatch w = admin.pods().inNamespace(ns).withName(pod).inContainer(container).redirectingOutput().exec(withName)) {
            // read to the end of the stream: the exit status can arrive before the last output does
            String out = new String(w.getOutput().readAllBytes(), StandardCharsets.UTF_8);
            w.exitCode().get(30, TimeUnit.SECONDS);
            return out;
        }
    }

    private static String httpGet(int port) throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write("GET / HTTP/1.0\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            InputStream in = s.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static Map<String, String> readSysctls() throws Exception {
        java.util.Map<String, String> m = new java.util.TreeMap<>();
        for (String s : HOST_SYSCTLS) {
            m.put(s, Files.readString(Path.of("/proc/sys", s)).strip());
        }
        return m;
    }
}
