package dev.porthole.helmtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.marcnuri.helm.Release;
import dev.porthole.api.v1alpha1.Audience;
import dev.porthole.api.v1alpha1.Phase;
import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.testcluster.CreatorAdmission;
import dev.porthole.testcluster.Creators;
import dev.porthole.cli.ForwardRelayInfo;
import dev.porthole.cli.Forwarder;
import dev.porthole.cli.ForwarderConfig;
import dev.porthole.cli.ForwarderException;
import dev.porthole.cli.KubernetesCsrCertificateSource;
import dev.porthole.helmtest.support.Chart;
import dev.porthole.operator.support.EchoServer;
import dev.porthole.helmtest.support.ForbiddenRecorder;
import dev.porthole.operator.support.PodAgent;
import dev.porthole.operator.OperatorSettings;
import dev.porthole.operator.PortholeOperator;
import dev.porthole.operator.RelayControl;
import dev.porthole.operator.metrics.HealthServer;
import dev.porthole.operator.metrics.PortholeMetrics;
import dev.porthole.protocol.pki.CertificateAuthority;
import dev.porthole.protocol.pki.Pem;
import dev.porthole.testcluster.Identity;
import dev.porthole.testcluster.Kubelet;
import dev.porthole.testcluster.LocalCluster;
import dev.porthole.testcluster.TestCluster;
import dev.porthole.testcluster.TestNamespace;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequest;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestBuilder;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestConditionBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The chart installed with helm-java into the real control plane, then the operator run as the
 * ServiceAccount the chart created (TokenRequest token) with exactly the chart's RBAC. The methods run
 * in order on one release: install, a forward's whole life, the metrics it left, a user's rights, uninstall.
 */
@LocalCluster
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ChartInstallIT {
    private static final String RELEASE = "porthole";
    private static final String VALUES = "install.yaml";
    /** The pod a ReplicaSet would make from the chart's template (no ReplicaSet controller runs here). */
    private static final String REPLICA = "porthole-replica-0";

    private TestCluster cluster;
    private KubernetesClient admin;
    private String ns;
    private Release release;
    private List<HasMetadata> rendered;
    private final ForbiddenRecorder forbidden = new ForbiddenRecorder();
    private KubernetesClient operatorClient;
    private PortholeOperator operator;
    private PortholeMetrics metrics;
    private HealthServer http;
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @BeforeAll
    void install(TestCluster cluster) {
        this.cluster = cluster;
        this.admin = cluster.admin();
        ns = cluster.createNamespace("porthole-system");
        admin.namespaces().withName(ns).edit(n -> {
            n.getMetadata().getLabels().put("pod-security.kubernetes.io/enforce", "restricted");
            return n;
        });
        // the chart brings its own creator admission policy: the test cluster's copy makes way for it
        CreatorAdmission.uninstall(admin);
        release = Chart.helm().install().withName(RELEASE).withNamespace(ns).withKubeConfig(cluster.kubeconfig())
                .withValuesFile(Chart.VALUES.resolve(VALUES)).call();
        CreatorAdmission.awaitInstalled(admin);
        rendered = Chart.template(RELEASE, ns, VALUES).objects();
    }

    @AfterAll
    void cleanUp() throws Exception {
        stopOperator();
        for (AutoCloseable c : toClose) {
            c.close();
        }
        com.marcnuri.helm.Helm.uninstall(RELEASE).withNamespace(ns).withKubeConfig(cluster.kubeconfig()).ignoreNotFound().call();
        CreatorAdmission.install(admin);
        admin.rbac().clusterRoleBindings().withName("porthole-users-" + ns).delete();
        cluster.deleteNamespace(ns);
    }

    @Test
    @Order(1)
    @DisplayName("helm install: every object of the chart is accepted, and its pod template passes the restricted Pod Security level")
    void installAccepted() {
        // then: every rendered object exists in the cluster
        assertThat(release.getStatus()).isEqualTo("deployed");
        assertThat(rendered).hasSizeGreaterThanOrEqualTo(12);
        assertThat(rendered).allSatisfy(o -> assertThat(live(o)).as(o.getKind() + "/" + o.getMetadata().getName()).isNotNull());

        // and: the chart's pod template is admitted where restricted is enforced; a root pod is not
        Pod replica = admin.resource(replicaPod()).create();
        assertThat(replica.getMetadata().getLabels()).containsEntry("app.kubernetes.io/name", "porthole");
        assertThatThrownBy(() -> admin.resource(new PodBuilder().withNewMetadata().withName("root").withNamespace(ns).endMetadata()
                .withNewSpec().addNewContainer().withName("c").withImage("busybox").endContainer().endSpec().build()).create())
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getMessage()).contains("PodSecurity \"restricted"));
    }

    @Test
    @Order(2)
    @DisplayName("the operator as the chart's ServiceAccount, under only the chart's RBAC, takes a forward through its whole life: no request is forbidden")
    void operatorUnderChartRbac(TestNamespace target) throws Exception {
        // given: the chart's user role bound to alice and mallory, the operator running as the chart's ServiceAccount
        bindUsers();
        startOperator();
        await().atMost(Duration.ofSeconds(30)).until(operator::isLeader);
        await().atMost(Duration.ofSeconds(10)).until(() -> "true".equals(admin.pods().inNamespace(ns).withName(REPLICA).get()
                .getMetadata().getLabels().get(PortholeOperator.RELAY_LEADER_LABEL)));
        EchoServer echo = closeLater(new EchoServer());
        Kubelet.runningPod(admin, target.name(), "db-0", Map.of(), "echo", echo.port());

        // when: accept and inject
        admin.resource(forward(target.name(), "db", echo.port(), "15s")).create();
        PortForward active = await().atMost(Duration.ofSeconds(20)).until(() -> get(target.name(), "db"),
                pf -> pf != null && pf.getStatus() != null && pf.getStatus().getPhase() == Phase.Active);
        assertThat(admin.pods().inNamespace(target.name()).withName("db-0").get().getSpec().getEphemeralContainers()).hasSize(1);
        closeLater(PodAgent.start(admin, target.name(), "db-0"));
        await().atMost(Duration.ofSeconds(15)).until(() -> operator.relay().server().isAgentConnected(target.name() + "/db"));

        // and: a credential issued to alice carries bytes; one refused to mallory
        Forwarder forwarder = connect(cluster.clientFor(Identity.ALICE), target.name() + "/db");
        assertThat(roundTrip(forwarder, "hello through the chart")).isEqualTo("hello through the chart");
        forwarder.close();
        assertThatThrownBy(() -> connect(cluster.clientFor(Identity.MALLORY), target.name() + "/db"))
                .isInstanceOf(ForwarderException.class).hasMessageContaining("mallory is not in the audience");

        // then: it expires and is deleted, and the API server refused the operator nothing
        await().atMost(Duration.ofSeconds(30)).until(() -> get(target.name(), "db") == null);
        assertThat(active.getStatus().getExpiresAt()).isNotNull();
        assertThat(forbidden.responses()).isPositive();
        assertThat(forbidden.forbidden()).isEmpty();
    }

    @Test
    @Order(3)
    @DisplayName("/metrics over HTTP shows the forward's sessions, bytes, credentials, relay connections and reconciles; probes answer 200")
    void metricsMoved() throws Exception {
        // given: the traffic of the previous test
        assertThat(http).as("operator started by the lifecycle test").isNotNull();

        // when
        HttpResponse<String> scrape = httpGet("/metrics");

        // then
        assertThat(scrape.statusCode()).isEqualTo(200);
        assertThat(scrape.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
        String body = scrape.body();
        assertThat(value(body, "porthole_sessions_total")).isGreaterThanOrEqualTo(1);
        assertThat(value(body, "porthole_session_bytes_total{direction=\"in\"}")).isGreaterThanOrEqualTo(23);
        assertThat(value(body, "porthole_session_bytes_total{direction=\"out\"}")).isGreaterThanOrEqualTo(23);
        assertThat(value(body, "porthole_session_duration_seconds_count")).isGreaterThanOrEqualTo(1);
        assertThat(value(body, "porthole_credentials_total{outcome=\"issued\"}")).isGreaterThanOrEqualTo(1);
        assertThat(value(body, "porthole_credentials_total{outcome=\"denied\"}")).isGreaterThanOrEqualTo(1);
        assertThat(value(body, "porthole_relay_connections_total{outcome=\"connected\",side=\"agent\"}")).isGreaterThanOrEqualTo(1);
        assertThat(value(body, "porthole_relay_connections_total{outcome=\"opened\",side=\"client\"}")).isGreaterThanOrEqualTo(1);
        assertThat(value(body, "porthole_sessions_active")).isZero();
        assertThat(body).contains("porthole_forwards{phase=\"Active\"}");
        assertThat(sum(body, "operator_sdk_reconciliations_started_total")).isGreaterThanOrEqualTo(2);
        assertThat(sum(body, "operator_sdk_controllers_execution_reconcile_seconds_count")).isGreaterThanOrEqualTo(2);
        assertThat(httpGet("/healthz").statusCode()).isEqualTo(200);
        assertThat(httpGet("/readyz").statusCode()).isEqualTo(200);
    }

    @Test
    @Order(4)
    @DisplayName("a user bound to the chart's user role creates a forward and a CSR, and may neither read Secrets nor approve CSRs")
    void userRole(TestNamespace target) throws IOException {
        // given
        bindUsers();
        KubernetesClient alice = cluster.clientFor(Identity.ALICE);
        Path manifest = Files.writeString(Files.createTempFile(cluster.workDir(), "forward", ".yaml"), """
                apiVersion: porthole.dev/v1alpha1
                kind: PortForward
                metadata: { name: by-alice, namespace: %s }
                spec:
                  target: { pod: db-0, port: 5432 }
                  audience: { users: [alice] }
                  ttl: 10m
                """.formatted(target.name()));

        // when
        TestCluster.KubectlResult applied = cluster.kubectl(Identity.ALICE, "apply", "-f", manifest.toString());
        CertificateSigningRequest csr = alice.certificates().v1().certificateSigningRequests().resource(csr(target.name())).create();

        // then
        assertThat(applied.succeeded()).as(applied.stderr()).isTrue();
        assertThat(applied.stdout()).contains("portforward.porthole.dev/by-alice created");
        assertThat(csr.getSpec().getUsername()).isEqualTo("alice");
        assertThatThrownBy(() -> alice.secrets().inNamespace(ns).withName("porthole-ca").get())
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403));
        assertThatThrownBy(() -> alice.secrets().inNamespace(target.name()).list())
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403));
        assertThatThrownBy(() -> alice.certificates().v1().certificateSigningRequests().withName(csr.getMetadata().getName())
                .approve(new CertificateSigningRequestConditionBuilder().withType("Approved").withStatus("True")
                        .withReason("SelfApproved").withMessage("trust me").build()))
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403));
    }

    @Test
    @Order(5)
    @DisplayName("helm uninstall leaves nothing of the operator behind: the CA, the relay certificate and the Lease go too")
    void uninstallLeavesNothing() {
        // given
        stopOperator();
        admin.pods().inNamespace(ns).withName(REPLICA).withGracePeriod(0).delete();

        // when
        com.marcnuri.helm.Helm.uninstall(RELEASE).withNamespace(ns).withKubeConfig(cluster.kubeconfig()).call();

        // then
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                assertThat(rendered).allSatisfy(o -> assertThat(live(o)).as(o.getKind() + "/" + o.getMetadata().getName()).isNull()));
        assertThat(admin.rbac().clusterRoles().withLabel("app.kubernetes.io/instance", RELEASE).list().getItems()).isEmpty();
        assertThat(admin.apps().deployments().inNamespace(ns).list().getItems()).isEmpty();
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            assertThat(admin.secrets().inNamespace(ns).list().getItems()).isEmpty();
            assertThat(admin.leases().inNamespace(ns).list().getItems()).isEmpty();
        });
        assertThat(admin.apiextensions().v1().customResourceDefinitions().withName("portforwards.porthole.dev").get())
                .as("CRDs stay, as Helm keeps crds/ on uninstall").isNotNull();
    }

    // --- helpers

    private void startOperator() {
        if (operator != null) {
            return;
        }
        String token = cluster.serviceAccountToken(ns, RELEASE, Duration.ofHours(1));
        operatorClient = new KubernetesClientBuilder().withConfig(cluster.configWithToken(token))
                .withHttpClientBuilderConsumer(b -> b.addOrReplaceInterceptor("forbidden-recorder", forbidden)).build();
        OperatorSettings settings = new OperatorSettings(ns, REPLICA, "porthole-agent:test", "127.0.0.1", 0, 0,
                "127.0.0.1", "127.0.0.1", List.of()).withLeaderElection("porthole-leader");
        metrics = new PortholeMetrics();
        operator = PortholeOperator.start(operatorClient, settings, Clock.systemUTC(), RelayControl.NONE, metrics);
        PortholeOperator running = operator;
        http = HealthServer.start("127.0.0.1", 0, metrics::scrape, running::isLive, running::isReady);
    }

    private void stopOperator() {
        if (operator != null) {
            operator.close();
            operator = null;
        }
        if (operatorClient != null) {
            operatorClient.close();
            operatorClient = null;
        }
    }

    private void bindUsers() {
        admin.resource(new ClusterRoleBindingBuilder().withNewMetadata().withName("porthole-users-" + ns).endMetadata()
                .withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", RELEASE + "-user")
                .addNewSubject().withKind("User").withApiGroup("rbac.authorization.k8s.io").withName("alice").endSubject()
                .addNewSubject().withKind("User").withApiGroup("rbac.authorization.k8s.io").withName("mallory").endSubject()
                .build()).forceConflicts().serverSideApply();
    }

    private Pod replicaPod() {
        Deployment d = admin.apps().deployments().inNamespace(ns).withName(RELEASE).get();
        return new PodBuilder().withNewMetadataLike(d.getSpec().getTemplate().getMetadata()).withName(REPLICA).withNamespace(ns)
                .endMetadata().withSpec(d.getSpec().getTemplate().getSpec()).build();
    }

    private HasMetadata live(HasMetadata o) {
        if (o instanceof Namespaced && o.getMetadata().getNamespace() == null) {
            o.getMetadata().setNamespace(ns);
        }
        return admin.resource(o).get();
    }

    private static PortForward forward(String namespace, String name, int port, String ttl) {
        PortForward pf = new PortForward();
        pf.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName(name).withNamespace(namespace).build());
        dev.porthole.api.v1alpha1.PortForwardSpec spec = new dev.porthole.api.v1alpha1.PortForwardSpec();
        spec.setTarget(dev.porthole.api.v1alpha1.Target.pod("db-0", new IntOrString(port)));
        spec.setAudience(Audience.users("alice"));
        spec.setTtl(ttl);
        spec.setReason("chart test");
        spec.setRequestedBy(Creators.CLUSTER_ADMIN);
        pf.setSpec(spec);
        return pf;
    }

    private PortForward get(String namespace, String name) {
        return admin.resources(PortForward.class).inNamespace(namespace).withName(name).get();
    }

    private Forwarder connect(KubernetesClient user, String forward) {
        ForwardRelayInfo info = ForwardRelayInfo.of(user, forward);
        Forwarder f = new Forwarder(ForwarderConfig.of(forward, InetAddress.getLoopbackAddress(), 0, info.relayHost(),
                info.relayPort(), info.ca(), new KubernetesCsrCertificateSource(user, info.remaining(), Duration.ofSeconds(30),
                line -> { })), line -> { }).start();
        toClose.add(f);
        return f;
    }

    private static String roundTrip(Forwarder forwarder, String text) throws IOException {
        try (Socket s = new Socket(forwarder.localAddress().getAddress(), forwarder.localAddress().getPort())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(text.getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = s.getInputStream();
            return new String(in.readNBytes(text.length()), StandardCharsets.UTF_8);
        }
    }

    private static CertificateSigningRequest csr(String namespace) {
        String pem = Pem.write(CertificateAuthority.createCertificationRequest(CertificateAuthority.generateKeyPair(), "alice"));
        return new CertificateSigningRequestBuilder()
                .withNewMetadata().withGenerateName("alice-").addToAnnotations("porthole.dev/forward", namespace + "/by-alice").endMetadata()
                .withNewSpec().withSignerName("porthole.dev/client").withUsages("client auth").withExpirationSeconds(600)
                .withRequest(Base64.getEncoder().encodeToString(pem.getBytes(StandardCharsets.UTF_8))).endSpec().build();
    }

    private HttpResponse<String> httpGet(String path) throws IOException, InterruptedException {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.port() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** The value of one exact series line ("name{labels} value"). */
    private static double value(String scrape, String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(scrape);
        assertThat(m.find()).as("series %s in%n%s", series, scrape).isTrue();
        return Double.parseDouble(m.group(1));
    }

    /** The sum over every label set of a metric. */
    private static double sum(String scrape, String name) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(?:\\{[^}]*})? (\\S+)$").matcher(scrape);
        double total = 0;
        boolean found = false;
        while (m.find()) {
            total += Double.parseDouble(m.group(1));
            found = true;
        }
        assertThat(found).as("metric %s in%n%s", name, scrape).isTrue();
        return total;
    }

    private <T extends AutoCloseable> T closeLater(T c) {
        toClose.add(c);
        return c;
    }
}
