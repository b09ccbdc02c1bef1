package dev.porthole.testcluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.EphemeralContainerBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicyBindingBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicyBuilder;
import io.fabric8.kubernetes.api.model.authentication.SelfSubjectReview;
import io.fabric8.kubernetes.api.model.authentication.SelfSubjectReviewBuilder;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequest;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestBuilder;
import io.fabric8.kubernetes.api.model.events.v1.Event;
import io.fabric8.kubernetes.api.model.events.v1.EventBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The local control plane is the real thing: each behaviour Porthole relies on, proven on it. */
@LocalCluster
class ControlPlaneIT {

    @Test
    @DisplayName("a CRD's CEL rule refuses a bad PortForward with the rule's message")
    void celValidationRefusesBadResource(TestNamespace ns) {
        // given
        KubernetesClient admin = ns.cluster().admin();
        GenericKubernetesResource bad = portForward(ns.name(), "no-audience", Map.of());

        // when / then
        assertThatThrownBy(() -> admin.resource(bad).create())
                .isInstanceOf(KubernetesClientException.class)
                .hasMessageContaining("audience must name at least one user, group or service account");
    }

    @Test
    @DisplayName("server-side apply creates, then merges a second field manager's change")
    void serverSideApplyWorks(TestNamespace ns) {
        // given
        KubernetesClient admin = ns.cluster().admin();
        ConfigMap first = new ConfigMapBuilder().withNewMetadata().withName("ssa").withNamespace(ns.name()).endMetadata()
                .addToData("a", "1").build();
        admin.resource(first).fieldManager("first").serverSideApply();

        // when
        ConfigMap second = new ConfigMapBuilder().withNewMetadata().withName("ssa").withNamespace(ns.name()).endMetadata()
                .addToData("b", "2").build();
        admin.resource(second).fieldManager("second").serverSideApply();

        // then
        ConfigMap merged = admin.configMaps().inNamespace(ns.name()).withName("ssa").get();
        assertThat(merged.getData()).containsEntry("a", "1").containsEntry("b", "2");
        assertThat(merged.getMetadata().getManagedFields()).extracting(m -> m.getManager())
                .contains("first", "second");
    }

    @Test
    @DisplayName("an authenticated user without any RBAC binding is forbidden")
    void userWithoutBindingIsForbidden(TestNamespace ns) {
        // given
        KubernetesClient mallory = ns.cluster().clientFor(Identity.MALLORY);

        // when / then
        assertThatThrownBy(() -> mallory.secrets().inNamespace(ns.name()).list())
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403))
                .hasMessageContaining("User \"mallory\" cannot list resource \"secrets\"");
    }

    @Test
    @DisplayName("the token file authenticates alice with her groups")
    void tokenUserIsAuthenticatedWithGroups(TestNamespace ns) {
        // when
        SelfSubjectReview review = ns.cluster().clientFor(Identity.ALICE).resource(new SelfSubjectReviewBuilder().build()).create();

        // then
        assertThat(review.getStatus().getUserInfo().getUsername()).isEqualTo("alice");
        assertThat(review.getStatus().getUserInfo().getGroups()).contains("sre-oncall", "system:authenticated");
    }

    @Test
    @DisplayName("awkward user and group names in the token file are authenticated exactly, by the API and through kubectl")
    void awkwardNamesAuthenticateExactly(TestCluster cluster) {
        for (Identity id : List.of(Identity.OBRIEN, Identity.JOSE, Identity.HEX_ALICE, Identity.CONTROL_EVE, Identity.MALLORY)) {
            // given
            List<String> expectedGroups = new java.util.ArrayList<>(id.groups());
            expectedGroups.add("system:authenticated");

            // when
            SelfSubjectReview review = cluster.clientFor(id).resource(new SelfSubjectReviewBuilder().build()).create();
            TestCluster.KubectlResult kubectl = cluster.kubectl(id, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}");

            // then
            assertThat(review.getStatus().getUserInfo().getUsername()).isEqualTo(id.username());
            assertThat(review.getStatus().getUserInfo().getGroups()).as(id.name()).containsExactlyElementsOf(expectedGroups);
            assertThat(kubectl.succeeded()).as(kubectl.stderr()).isTrue();
            assertThat(kubectl.stdout()).isEqualTo(id.username());
        }
    }

    @Test
    @DisplayName("a TokenRequest token authenticates as its service account")
    void serviceAccountTokenAuthenticates(TestNamespace ns) {
        // given
        String token = ns.cluster().serviceAccountToken(ns.name(), "migrator", Duration.ofMinutes(10));

        // when
        SelfSubjectReview review = ns.cluster().clientWithToken(token).resource(new SelfSubjectReviewBuilder().build()).create();

        // then
        assertThat(review.getStatus().getUserInfo().getUsername())
                .isEqualTo("system:serviceaccount:" + ns.name() + ":migrator");
        assertThat(review.getStatus().getUserInfo().getGroups()).contains("system:serviceaccounts:" + ns.name());
    }

    @Test
    @DisplayName("a CSR created by alice is stamped with her name and groups, whatever the body claims")
    void csrIdentityIsStampedByServer(TestCluster cluster) throws Exception {
        // given: alice may create CSRs, and she claims to be the administrator in the body
        KubernetesClient admin = cluster.admin();
        String role = "csr-creator-" + System.nanoTime();
        admin.rbac().clusterRoles().resource(new io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder()
                .withNewMetadata().withName(role).endMetadata()
                .addNewRule().withApiGroups("certificates.k8s.io").withResources("certificatesigningrequests")
                .withVerbs("create", "get").endRule().build()).create();
        admin.rbac().clusterRoleBindings().resource(new io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder()
                .withNewMetadata().withName(role).endMetadata()
                .withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", role)
                .addNewSubject().withKind("User").withApiGroup("rbac.authorization.k8s.io").withName("alice").endSubject()
                .build()).create();
        CertificateSigningRequest csr = new CertificateSigningRequestBuilder()
                .withNewMetadata().withGenerateName("alice-").endMetadata()
                .withNewSpec().withSignerName("porthole.dev/client").withUsages("client auth")
                .withUsername(Identity.ADMIN.username()).withGroups("system:masters")
                .withRequest(Base64.getEncoder().encodeToString(pemCsr().getBytes())).endSpec().build();

        // when
        CertificateSigningRequest created = await().ignoreExceptions().atMost(Duration.ofSeconds(10))
                .until(() -> cluster.clientFor(Identity.ALICE).resource(csr).create(), c -> c != null);

        // then
        assertThat(created.getSpec().getUsername()).isEqualTo("alice");
        assertThat(created.getSpec().getGroups()).contains("sre-oncall").doesNotContain("system:masters");
        admin.certificates().v1().certificateSigningRequests().withName(created.getMetadata().getName()).delete();
    }

    @Test
    @DisplayName("the pods/ephemeralcontainers subresource adds an ephemeral container to a pod")
    void ephemeralContainerSubresource(TestNamespace ns) {
        // given
        KubernetesClient admin = ns.cluster().admin();
        Pod pod = admin.resource(new PodBuilder().withNewMetadata().withName("target").withNamespace(ns.name()).endMetadata()
                .withNewSpec().addNewContainer().withName("app").withImage("example/app:1").endContainer().endSpec()
                .build()).create();

        // when
        Pod patched = admin.pods().inNamespace(ns.name()).withName("target").ephemeralContainers()
                .edit(p -> new PodBuilder(p).editSpec().addToEphemeralContainers(new EphemeralContainerBuilder()
                        .withName("debugger").withImage("example/agent:1").build()).endSpec().build());

        // then
        assertThat(patched.getSpec().getEphemeralContainers()).extracting(c -> c.getName()).containsExactly("debugger");
        assertThat(admin.pods().inNamespace(ns.name()).withName(pod.getMetadata().getName()).get()
                .getSpec().getEphemeralContainers()).hasSize(1);
    }

    @Test
    @DisplayName("an events.k8s.io/v1 Event is written and listed")
    void eventsV1WrittenAndListed(TestNamespace ns) {
        // given
        KubernetesClient admin = ns.cluster().admin();
        ConfigMap regarding = admin.resource(new ConfigMapBuilder().withNewMetadata().withName("subject")
                .withNamespace(ns.name()).endMetadata().build()).create();
        Event event = new EventBuilder().withNewMetadata().withGenerateName("subject-").withNamespace(ns.name()).endMetadata()
                // MicroTime needs exactly six fractional digits (Instant.toString drops trailing zeros)
                .withEventTime(new io.fabric8.kubernetes.api.model.MicroTime(java.time.format.DateTimeFormatter
                        .ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSSX").withZone(java.time.ZoneOffset.UTC).format(Instant.now())))
                .withReportingController("porthole.dev/test").withReportingInstance("test-1")
                .withAction("Test").withReason("Accepted").withType("Normal").withNote("hello from the test")
                .withRegarding(new ObjectReferenceBuilder().withKind("ConfigMap").withApiVersion("v1")
                        .withName("subject").withNamespace(ns.name()).withUid(regarding.getMetadata().getUid()).build())
                .build();

        // when
        admin.events().v1().events().inNamespace(ns.name()).resource(event).create();

        // then
        List<Event> listed = admin.events().v1().events().inNamespace(ns.name()).list().getItems();
        assertThat(listed).singleElement().satisfies(e -> {
            assertThat(e.getReason()).isEqualTo("Accepted");
            assertThat(e.getNote()).isEqualTo("hello from the test");
            assertThat(e.getRegarding().getUid()).isEqualTo(regarding.getMetadata().getUid());
        });
    }

    @Test
    @DisplayName("deleting an owner garbage-collects the Secret it owns")
    void ownedSecretIsGarbageCollected(TestNamespace ns) {
        // given
        KubernetesClient admin = ns.cluster().admin();
        ConfigMap owner = admin.resource(new ConfigMapBuilder().withNewMetadata().withName("owner")
                .withNamespace(ns.name()).endMetadata().build()).create();
        admin.resource(new SecretBuilder().withNewMetadata().withName("owned").withNamespace(ns.name())
                .addNewOwnerReference().withApiVersion("v1").withKind("ConfigMap").withName("owner")
                .withUid(owner.getMetadata().getUid()).endOwnerReference().endMetadata()
                .addToStringData("token", "x").build()).create();

        // when
        admin.resource(owner).delete();

        // then
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(admin.secrets().inNamespace(ns.name()).withName("owned").get()).isNull());
    }

    @Test
    @DisplayName("a ValidatingAdmissionPolicy with its binding refuses a request with its message")
    void validatingAdmissionPolicyRefuses(TestNamespace ns) {
        // given
        KubernetesClient admin = ns.cluster().admin();
        String name = "no-forbidden-configmaps-" + ns.name();
        admin.resource(new ValidatingAdmissionPolicyBuilder().withNewMetadata().withName(name).endMetadata()
                .withNewSpec().withFailurePolicy("Fail")
                .withNewMatchConstraints().addNewResourceRule().withApiGroups("").withApiVersions("v1")
                .withOperations("CREATE").withResources("configmaps").endResourceRule().endMatchConstraints()
                .addNewValidation().withExpression("!has(object.data) || !('forbidden' in object.data)")
                .withMessage("configmaps may not carry a 'forbidden' key").endValidation()
                .endSpec().build()).create();
        admin.resource(new ValidatingAdmissionPolicyBindingBuilder().withNewMetadata().withName(name).endMetadata()
                .withNewSpec().withPolicyName(name).withValidationActions("Deny")
                .withNewMatchResources().withNewNamespaceSelector()
                .addToMatchLabels("kubernetes.io/metadata.name", ns.name()).endNamespaceSelector().endMatchResources()
                .endSpec().build()).create();
        ConfigMap forbidden = new ConfigMapBuilder().withNewMetadata().withName("bad").withNamespace(ns.name()).endMetadata()
                .addToData("forbidden", "yes").build();

        try {
            // when / then: policies take effect asynchronously, so wait until the refusal appears
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                    assertThatThrownBy(() -> admin.resource(forbidden).create())
                            .hasMessageContaining("configmaps may not carry a 'forbidden' key"));
        } finally {
            admin.admissionRegistration().v1().validatingAdmissionPolicyBindings().withName(name).delete();
            admin.admissionRegistration().v1().validatingAdmissionPolicies().withName(name).delete();
        }
    }

    @Test
    @DisplayName("the cluster's kubeconfig lives in its work directory and its kubectl works with it")
    void kubeconfigIsPrivateAndUsable(TestCluster cluster) {
        // when
        TestCluster.KubectlResult result = cluster.kubectl(Identity.ALICE, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}");

        // then
        assertThat(cluster.kubeconfig()).startsWith(cluster.workDir()).exists();
        assertThat(cluster.kubeconfig().toString()).doesNotContain(Path.of(System.getProperty("user.home"), ".kube").toString());
        assertThat(result.succeeded()).as(result.stderr()).isTrue();
        assertThat(result.stdout()).isEqualTo("alice");
        System.out.printf("local control plane start-up (etcd + kube-apiserver + kube-controller-manager + CRDs): %d ms%n",
                cluster.startupTime().toMillis());
    }

    private static GenericKubernetesResource portForward(String namespace, String name, Map<String, Object> audience) {
        GenericKubernetesResource pf = new GenericKubernetesResource();
        pf.setApiVersion("porthole.dev/v1alpha1");
        pf.setKind("PortForward");
        pf.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName(name).withNamespace(namespace).build());
        pf.setAdditionalProperty("spec", Map.of("target", Map.of("pod", "db-0", "port", 5432),
                "audience", audience, "ttl", "10m"));
        return pf;
    }

    private static String pemCsr() throws Exception {
        KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC");
        kpg.initialize(new ECGenParameterSpec("secp256r1"));
        var kp = kpg.generateKeyPair();
        PKCS10CertificationRequest req = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=porthole-admin"), kp.getPublic())
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate()));
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            w.writeObject(req);
        }
        return out.toString();
    }
}
