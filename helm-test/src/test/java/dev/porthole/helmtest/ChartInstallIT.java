package dev.porthole.helmtest;

import dev.porthole.protocol.ForwardRef;
import dev.porthole.pki.CertificationRequests;
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
import dev.porthole.pki.CertificateAuthority;
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
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewBuilder;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequest;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestBuilder;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestConditionBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
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
 * in order on one release: install, a forward's whole life, the metrics it left, what the connect and
 * requester roles let people do (and not), uninstall.
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
        admin.rbac().clusterRoleBindings().withName("porthole-connect-" + ns).delete();
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
        // given: the chart's connect role bound to alice and mallory, the operator running as the chart's ServiceAccount
        bindConnect();
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
        await().atMost(Duration.ofSeconds(15)).until(() -> operator.relay().server().isAgentConnected(new ForwardRef(target.name(), "db")));

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
    @DisplayName("a user bound only to the connect role requests certificates and reads a forward by name, but can create, list or delete no PortForward anywhere, nor read Secrets or pods, nor approve")
    void connectRoleOnly(TestNamespace target) throws IOException {
        // given: mallory holds only the connect role (a ClusterRoleBinding)
        bindConnect();
        KubernetesClient mallory = cluster.clientFor(Identity.MALLORY);

        // when
        TestCluster.KubectlResult applied = cluster.kubectl(Identity.MALLORY, "apply", "-f",
                forwardManifest(Identity.MALLORY, target.name(), "by-mallory", "10m").toString());
        CertificateSigningRequest csr = mallory.certificates().v1().certificateSigningRequests()
                .resource(csr("mallory", target.name() + "/by-mallory")).create();

        // then
        assertThat(applied.succeeded()).as(applied.stdout()).isFalse();
        assertThat(applied.stderr()).contains("is forbidden: User \"mallory\" cannot");
        assertThat(csr.getSpec().getUsername()).isEqualTo("mallory");
        for (String namespace : List.of(target.name(), ns, "default")) {
            assertForbidden(() -> mallory.resources(PortForward.class).inNamespace(namespace)
                    .resource(forward(namespace, "by-mallory", 5432, "10m")).create());
        }
        assertThat(mallory.resources(PortForward.class).inNamespace(target.name()).withName("by-mallory").get())
                .as("allowed to look (what the client does to connect), and there is nothing").isNull();
        assertForbidden(() -> mallory.resources(PortForward.class).inAnyNamespace().list());
        assertForbidden(() -> mallory.resources(PortForward.class).inNamespace(target.name()).list());
        assertForbidden(() -> mallory.resources(PortForward.class).inNamespace(target.name()).withName("by-mallory").delete());
        assertForbidden(() -> mallory.secrets().inNamespace(ns).withName("porthole-ca").get());
        assertForbidden(() -> mallory.pods().inNamespace(target.name()).list());
        assertForbidden(() -> approve(mallory, csr));
    }

    @Test
    @Order(5)
    @DisplayName("a RoleBinding to the requester role in namespace A lets a user create, re-apply and delete forwards in A, and nowhere else")
    void requesterRoleInOneNamespace(TestNamespace a) throws IOException {
        String b = cluster.createNamespace("requester-b");
        try {
            // given: bob may ask for forwards in A only, as docs/install.md binds a team: the requester role and
            // pods/portforward there (the chart's admission policy asks for it), and no connect role
            bindRequester("bob", a.name());
            admin.resource(new RoleBuilder().withNewMetadata().withName("portforward-pods").withNamespace(a.name()).endMetadata()
                    .addNewRule().withApiGroups("").withResources("pods/portforward").withVerbs("create").endRule()
                    .build()).create();
            admin.resource(new RoleBindingBuilder().withNewMetadata().withName("portforward-pods-bob").withNamespace(a.name())
                    .endMetadata().withNewRoleRef("rbac.authorization.k8s.io", "Role", "portforward-pods")
                    .addNewSubject().withKind("User").withApiGroup("rbac.authorization.k8s.io").withName("bob").endSubject()
                    .build()).create();
            KubernetesClient bob = cluster.clientFor(Identity.BOB);

            // when
            TestCluster.KubectlResult created = kubectlApply(Identity.BOB, forwardManifest(Identity.BOB, a.name(), "by-bob", "10m"));
            TestCluster.KubectlResult reapplied = kubectlApply(Identity.BOB, forwardManifest(Identity.BOB, a.name(), "by-bob", "5m"));
            TestCluster.KubectlResult inB = kubectlApply(Identity.BOB, forwardManifest(Identity.BOB, b, "by-bob", "10m"));
            List<PortForward> listedInA = bob.resources(PortForward.class).inNamespace(a.name()).list().getItems();
            TestCluster.KubectlResult deleted = cluster.kubectl(Identity.BOB, "delete", "-n", a.name(), "portforward", "by-bob");

            // then
            assertThat(created.succeeded()).as(created.stderr()).isTrue();
            assertThat(created.stdout()).contains("portforward.porthole.dev/by-bob created");
            assertThat(reapplied.succeeded()).as(reapplied.stderr()).isTrue();
            assertThat(reapplied.stdout()).contains("portforward.porthole.dev/by-bob configured");
            assertThat(listedInA).extracting(pf -> pf.getMetadata().getName()).containsExactly("by-bob");
            assertThat(deleted.succeeded()).as(deleted.stderr()).isTrue();
            assertThat(admin.resources(PortForward.class).inNamespace(a.name()).withName("by-bob").get()).isNull();
            assertThat(inB.succeeded()).as(inB.stdout()).isFalse();
            assertThat(inB.stderr()).contains("is forbidden: User \"bob\" cannot");
            assertThat(admin.resources(PortForward.class).inNamespace(b).list().getItems()).isEmpty();
            assertForbidden(() -> bob.resources(PortForward.class).inNamespace(b).resource(forward(b, "by-bob", 5432, "10m")).create());
            assertForbidden(() -> bob.resources(PortForward.class).inNamespace(b).list());
            assertForbidden(() -> bob.resources(PortForward.class).inAnyNamespace().list());
            assertForbidden(() -> bob.secrets().inNamespace(a.name()).list());
            assertForbidden(() -> bob.pods().inNamespace(a.name()).list());
            assertForbidden(() -> bob.certificates().v1().certificateSigningRequests()
                    .resource(csr("bob", a.name() + "/by-bob")).create());
        } finally {
            cluster.deleteNamespace(b);
        }
    }

    @Test
    @Order(6)
    @DisplayName("the API server's own answer: neither role grants Secrets, pods, pods/portforward, certificate approval or more RBAC")
    void neitherRoleGrantsMore(TestNamespace a) {
        // given: a user bound only to connect (cluster-wide), one only to requester (in A)
        String connectOnly = "connect-only-" + ns;
        String requesterOnly = "requester-only-" + ns;
        admin.resource(new ClusterRoleBindingBuilder().withNewMetadata().withName(connectOnly).endMetadata()
                .withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", RELEASE + "-connect")
                .addNewSubject().withKind("User").withApiGroup("rbac.authorization.k8s.io").withName(connectOnly).endSubject()
                .build()).forceConflicts().serverSideApply();
        try {
            bindRequester(requesterOnly, a.name());

            // then: what each role is for is allowed, so the reviews do look at the bindings ...
            assertThat(allowed(connectOnly, "certificates.k8s.io", "certificatesigningrequests", "", "create", null, null)).isTrue();
            assertThat(allowed(connectOnly, "certificates.k8s.io", "certificatesigningrequests", "", "get", null, "any")).isTrue();
            assertThat(allowed(requesterOnly, "porthole.dev", "portforwards", "", "create", a.name(), null)).isTrue();
            assertThat(allowed(requesterOnly, "porthole.dev", "portforwards", "", "delete", a.name(), "x")).isTrue();
            assertThat(allowed(connectOnly, "porthole.dev", "portforwards", "", "get", a.name(), "db")).isTrue();
            // ... and nothing more
            for (String verb : List.of("list", "watch", "create", "patch", "update", "delete", "deletecollection")) {
                assertThat(allowed(connectOnly, "porthole.dev", "portforwards", "", verb, a.name(), null)).as("connect %s", verb).isFalse();
            }
            assertThat(allowed(connectOnly, "porthole.dev", "portforwards", "status", "patch", a.name(), "db")).isFalse();
            assertThat(allowed(connectOnly, "certificates.k8s.io", "certificatesigningrequests", "", "list", null, null)).isFalse();
            assertThat(allowed(requesterOnly, "porthole.dev", "portforwards", "", "create", ns, null)).isFalse();
            assertThat(allowed(requesterOnly, "certificates.k8s.io", "certificatesigningrequests", "", "create", null, null)).isFalse();
            for (String user : List.of(connectOnly, requesterOnly)) {
                for (String namespace : List.of(a.name(), ns)) {
                    for (String verb : List.of("get", "list", "watch")) {
                        assertThat(allowed(user, "", "secrets", "", verb, namespace, null)).as("%s %s secrets in %s", user, verb, namespace).isFalse();
                        assertThat(allowed(user, "", "pods", "", verb, namespace, null)).as("%s %s pods in %s", user, verb, namespace).isFalse();
                    }
                    assertThat(allowed(user, "", "pods", "portforward", "create", namespace, "db-0")).as("%s pods/portforward", user).isFalse();
                    assertThat(allowed(user, "", "pods", "exec", "create", namespace, "db-0")).as("%s pods/exec", user).isFalse();
                    assertThat(allowed(user, "", "pods", "ephemeralcontainers", "patch", namespace, "db-0")).as(user).isFalse();
                    assertThat(allowed(user, "rbac.authorization.k8s.io", "rolebindings", "", "create", namespace, null)).as(user).isFalse();
                }
                assertThat(allowed(user, "certificates.k8s.io", "certificatesigningrequests", "approval", "update", null, "any"))
                        .as("%s approves", user).isFalse();
                assertThat(allowed(user, "certificates.k8s.io", "certificatesigningrequests", "status", "update", null, "any"))
                        .as("%s signs", user).isFalse();
                assertThat(allowed(user, "certificates.k8s.io", "signers", "", "approve", null, "porthole.dev/client")).as(user).isFalse();
                assertThat(allowed(user, "certificates.k8s.io", "signers", "", "sign", null, "porthole.dev/client")).as(user).isFalse();
                assertThat(allowed(user, "porthole.dev", "portforwardpolicies", "", "create", null, null)).as(user).isFalse();
                assertThat(allowed(user, "rbac.authorization.k8s.io", "clusterroles", "", "escalate", null, null)).as(user).isFalse();
                assertThat(allowed(user, "rbac.authorization.k8s.io", "clusterroles", "", "bind", null, null)).as(user).isFalse();
                assertThat(allowed(user, "", "users", "", "impersonate", null, "alice")).as(user).isFalse();
            }
        } finally {
            admin.rbac().clusterRoleBindings().withName(connectOnly).delete();
        }
    }

    @Test
    @Order(7)
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

    /** The chart's connect role bound cluster-wide to alice and mallory: they may connect, not ask for forwards. */
    private void bindConnect() {
        admin.resource(new ClusterRoleBindingBuilder().withNewMetadata().withName("porthole-connect-" + ns).endMetadata()
                .withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", RELEASE + "-connect")
                .addNewSubject().withKind("User").withApiGroup("rbac.authorization.k8s.io").withName("alice").endSubject()
                .addNewSubject().withKind("User").withApiGroup("rbac.authorization.k8s.io").withName("mallory").endSubject()
                .build()).forceConflicts().serverSideApply();
    }

    /** The chart's requester role bound to {@code user} in {@code namespace} only, as docs/install.md does it. */
    private void bindRequester(String user, String namespace) {
        admin.resource(new RoleBindingBuilder().withNewMetadata().withName("porthole-requester-" + user).withNamespace(namespace)
                .endMetadata().withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", RELEASE + "-requester")
                .addNewSubject().withKind("User").withApiGroup("rbac.authorization.k8s.io").withName(user).endSubject()
                .build()).forceConflicts().serverSideApply();
    }

    /** The API server's authorization answer for {@code user} (a SubjectAccessReview). */
    private boolean allowed(String user, String group, String resource, String subresource, String verb, String namespace,
                            String name) {
        SubjectAccessReview review = admin.authorization().v1().subjectAccessReview().create(new SubjectAccessReviewBuilder()
                .withNewSpec().withUser(user).withGroups("system:authenticated")
                .withNewResourceAttributes().withGroup(group).withResource(resource).withSubresource(subresource)
                .withVerb(verb).withNamespace(namespace).withName(name).endResourceAttributes()
                .endSpec().build());
        return Boolean.TRUE.equals(review.getStatus().getAllowed());
    }

    private static void assertForbidden(org.assertj.core.api.ThrowableAssert.ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403));
    }

    private static void approve(KubernetesClient user, CertificateSigningRequest csr) {
        user.certificates().v1().certificateSigningRequests().withName(csr.getMetadata().getName())
                .approve(new CertificateSigningRequestConditionBuilder().withType("Approved").withStatus("True")
                        .withReason("SelfApproved").withMessage("trust me").build());
    }

    /** A forward as {@code creator} writes it, naming themselves as its creator. */
    private Path forwardManifest(Identity creator, String namespace, String name, String ttl) throws IOException {
        return Files.writeString(Files.createTempFile(cluster.workDir(), "forward", ".yaml"), """
                apiVersion: porthole.dev/v1alpha1
                kind: PortForward
                metadata: { name: %s, namespace: %s }
                spec:
                  %s
                  target: { pod: db-0, port: 5432 }
                  audience: { users: [alice] }
                  ttl: %s
                """.formatted(name, namespace, Creators.yaml(creator), ttl));
    }

    private TestCluster.KubectlResult kubectlApply(Identity as, Path manifest) {
        return cluster.kubectl(as, "apply", "-f", manifest.toString());
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
        ForwardRelayInfo info = ForwardRelayInfo.of(user, ForwardRef.parse(forward));
        Forwarder f = new Forwarder(ForwarderConfig.of(ForwardRef.parse(forward), InetAddress.getLoopbackAddress(), 0, info.relayHost(),
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

    private static CertificateSigningRequest csr(String user, String forward) {
        String pem = CertificationRequests.write(CertificateAuthority.createCertificationRequest(CertificateAuthority.generateKeyPair(), user));
        return new CertificateSigningRequestBuilder()
                .withNewMetadata().withGenerateName(user + "-").addToAnnotations("porthole.dev/forward", forward).endMetadata()
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
