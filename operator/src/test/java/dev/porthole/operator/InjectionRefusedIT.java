package dev.porthole.operator;

import static dev.porthole.operator.support.Forwards.toPod;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.porthole.api.v1alpha1.Phase;
import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.operator.support.Forwards;
import dev.porthole.operator.support.OperatorPerClass;
import dev.porthole.testcluster.Identity;
import dev.porthole.testcluster.Kubelet;
import dev.porthole.testcluster.LocalCluster;
import dev.porthole.testcluster.TestCluster;
import dev.porthole.testcluster.TestNamespace;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A write of the operator that the cluster refuses ends in a reason, not in silent retries: a cluster admission
 * policy that forbids debug containers in some pods makes the forward Failed, with a condition and an Event that
 * quote the API server, and no agent is added.
 */
@LocalCluster
class InjectionRefusedIT {
    @RegisterExtension
    static final OperatorPerClass operator = new OperatorPerClass();
    private KubernetesClient admin;
    private TestCluster cluster;

    @BeforeEach
    void clients(TestCluster cluster) {
        this.cluster = cluster;
        admin = cluster.admin();
    }

    @ParameterizedTest(name = "policy reason {0}")
    @CsvSource({"Forbidden, was forbidden", "Invalid, was refused by the API server"})
    @DisplayName("an admission policy that refuses the agent: Failed with AgentInjectionFailed, the refusal quoted, nothing injected")
    void admissionRefusesInjection(String policyReason, String expected, TestNamespace ns) {
        // given: pods labelled no-debug refuse every update, debug containers included
        Kubelet.runningPod(admin, ns.name(), "vault-0", Map.of("no-debug", "true"), "api", 8200);
        String policy = "no-debug-" + ns.name();
        apply(ns, """
                apiVersion: admissionregistration.k8s.io/v1
                kind: ValidatingAdmissionPolicy
                metadata: { name: %1$s }
                spec:
                  failurePolicy: Fail
                  matchConstraints:
                    resourceRules:
                      - { apiGroups: [""], apiVersions: [v1], operations: [UPDATE], resources: [pods, pods/ephemeralcontainers] }
                  validations:
                    - expression: "!has(object.metadata.labels) || !('no-debug' in object.metadata.labels)"
                      message: "debug containers are not allowed in no-debug pods"
                      reason: %2$s
                ---
                apiVersion: admissionregistration.k8s.io/v1
                kind: ValidatingAdmissionPolicyBinding
                metadata: { name: %1$s }
                spec:
                  policyName: %1$s
                  validationActions: [Deny]
                  matchResources:
                    namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: %3$s } }
                """.formatted(policy, policyReason, ns.name()));
        try {
            await().atMost(Duration.ofSeconds(20)).until(() -> refusesUpdate(ns));

            // when
            admin.resource(toPod(ns.name(), "vault", "vault-0", 8200, "10m")).create();

            // then
            PortForward pf = Forwards.awaitPhase(admin, ns.name(), "vault", Phase.Failed, Duration.ofSeconds(30));
            assertThat(pf.getStatus().getMessage()).startsWith("adding the agent to pod vault-0 " + expected)
                    .contains("debug containers are not allowed in no-debug pods");
            assertThat(pf.getStatus().getConditions()).anySatisfy(c -> {
                assertThat(c.getType()).isEqualTo("Ready");
                assertThat(c.getStatus()).isEqualTo("False");
                assertThat(c.getReason()).isEqualTo("AgentInjectionFailed");
            });
            await().untilAsserted(() -> assertThat(Forwards.eventReasons(admin, ns.name(), "vault"))
                    .containsExactly("Accepted", "AgentInjectionFailed"));
            assertThat(admin.pods().inNamespace(ns.name()).withName("vault-0").get().getSpec().getEphemeralContainers()).isEmpty();
        } finally {
            cluster.kubectl(Identity.ADMIN, "delete", "validatingadmissionpolicybinding,validatingadmissionpolicy", policy,
                    "--ignore-not-found");
        }
    }

    private void apply(TestNamespace ns, String yaml) {
        TestCluster.KubectlResult r = cluster.apply(Identity.ADMIN, ns.name(), yaml);
        assertThat(r.succeeded()).as("kubectl apply: %s", r.stderr()).isTrue();
    }

    /** Probes with a server-side dry run of a label change until the policy refuses it. */
    private boolean refusesUpdate(TestNamespace ns) {
        try {
            admin.pods().inNamespace(ns.name()).withName("vault-0").dryRun()
                    .edit(p -> new PodBuilder(p).editMetadata().addToAnnotations("probe", "1").endMetadata().build());
            return false;
        } catch (KubernetesClientException e) {
            return e.getMessage().contains("debug containers are not allowed");
        }
    }
}
