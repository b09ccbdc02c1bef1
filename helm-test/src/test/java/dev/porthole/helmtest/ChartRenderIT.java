package dev.porthole.helmtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.marcnuri.helm.LintResult;
import dev.porthole.helmtest.support.Chart;
import dev.porthole.helmtest.support.Chart.Rendered;
import dev.porthole.api.admission.CreatorAdmissionPolicy;
import dev.porthole.operator.OperatorIdentity;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicy;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicyBinding;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The chart without a cluster: lint, rendering with default and other values, the schema, and its sources of truth. */
class ChartRenderIT {
    private static final KubernetesClient OFFLINE = new KubernetesClientBuilder().withConfig(Config.empty()).build();

    @AfterAll
    static void close() {
        OFFLINE.close();
    }

    @Test
    @DisplayName("helm lint --strict finds nothing to complain about")
    void lints() {
        // when
        LintResult result = Chart.helm().lint().strict().call();

        // then
        assertThat(result.isFailed()).as("lint messages: %s", result.getMessages()).isFalse();
        assertThat(result.getMessages()).noneMatch(m -> m.contains("[ERROR]") || m.contains("[WARNING]"));
    }

    @Test
    @DisplayName("default values render one operator replica with probes, limits, restricted security, and the relay as its"
            + " own Deployment with its own ServiceAccount")
    void defaultValues() {
        // when
        Rendered r = Chart.template("porthole", "porthole-system", null);

        // then
        assertThat(r.kinds()).containsExactlyInAnyOrder(
                "ServiceAccount/porthole", "ClusterRole/porthole-operator", "ClusterRoleBinding/porthole-operator",
                "Role/porthole-operator", "RoleBinding/porthole-operator", "ClusterRole/porthole-connect",
                "ClusterRole/porthole-requester", "ClusterRole/porthole-forwards", "Service/porthole-relay",
                "Service/porthole-metrics", "Deployment/porthole", "PodDisruptionBudget/porthole",
                "ServiceAccount/porthole-relay", "ClusterRole/porthole-relay", "ClusterRoleBinding/porthole-relay",
                "Deployment/porthole-relay", "Service/porthole-relay-metrics", "Service/porthole-relay-agents",
                "PodDisruptionBudget/porthole-relay",
                "Secret/porthole-ca", "Secret/porthole-relay-tls",
                "ValidatingAdmissionPolicy/porthole-creator", "ValidatingAdmissionPolicyBinding/porthole-creator");
        assertThat(r.objects()).allSatisfy(o -> assertThat(o.getMetadata().getLabels()).containsKeys(
                "app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version",
                "app.kubernetes.io/managed-by", "helm.sh/chart"));
        Deployment d = r.one(Deployment.class, "porthole");
        assertThat(d.getSpec().getReplicas()).isEqualTo(1);
        assertThat(d.getSpec().getStrategy().getType()).isEqualTo("Recreate");
        var pod = d.getSpec().getTemplate().getSpec();
        assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
        assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
        Container c = pod.getContainers().get(0);
        assertThat(c.getImage()).isEqualTo("ghcr.io/porthole-dev/porthole-operator:0.1.0");
        assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
        assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
        assertThat(c.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(c.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
        assertThat(c.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
        assertThat(c.getStartupProbe().getHttpGet().getPath()).isEqualTo("/healthz");
        assertThat(c.getResources().getRequests()).containsKeys("cpu", "memory");
        assertThat(c.getResources().getLimits()).containsKeys("cpu", "memory");
        assertThat(env(c)).containsEntry("PORTHOLE_LEADER_ELECTION", "false")
                .containsEntry("PORTHOLE_AGENT_IMAGE", "ghcr.io/porthole-dev/porthole-agent:0.1.0")
                .containsEntry("PORTHOLE_RELAY_SERVICE", "porthole-relay")
                // agents dial the headless Service: its name resolves to every relay replica, and they link each
                .containsEntry("PORTHOLE_RELAY_AGENT_HOST", "porthole-relay-agents.porthole-system.svc")
                .containsEntry("PORTHOLE_RELAY_CLIENT_HOST", "porthole-relay.porthole-system.svc")
                .containsEntry("PORTHOLE_RELAY_AGENT_PORT", "7443")
                .containsEntry("PORTHOLE_RELAY_CLIENT_PORT", "7444")
                .containsEntry("PORTHOLE_HTTP_PORT", "8080")
                .containsEntry("PORTHOLE_RELAY_DRAIN_SECONDS", "20");
        // the pod outlives its relay's drain, so live sessions get the whole grace
        assertThat(pod.getTerminationGracePeriodSeconds()).isEqualTo(30L);
        // the operator runs no relay: no data-plane port
        assertThat(env(c)).containsEntry("PORTHOLE_RELAY_MODE", "Separate");
        assertThat(c.getPorts()).extracting(p -> p.getName()).containsExactly("http-metrics");
        // the relay: the same image run as "relay", its own ServiceAccount, its certificate mounted
        Deployment relayDeployment = r.one(Deployment.class, "porthole-relay");
        assertThat(relayDeployment.getSpec().getReplicas()).isEqualTo(2);
        var relayPod = relayDeployment.getSpec().getTemplate().getSpec();
        assertThat(relayPod.getServiceAccountName()).isEqualTo("porthole-relay");
        Container relayContainer = relayPod.getContainers().get(0);
        assertThat(relayContainer.getImage()).isEqualTo(c.getImage());
        assertThat(relayContainer.getArgs()).containsExactly("relay");
        assertThat(relayContainer.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
        assertThat(env(relayContainer)).containsEntry("PORTHOLE_RELAY_TLS_DIR", "/etc/porthole/relay-tls")
                .containsEntry("PORTHOLE_RELAY_AGENT_PORT", "7443").containsEntry("PORTHOLE_RELAY_CLIENT_PORT", "7444")
                .containsEntry("PORTHOLE_RELAY_DRAIN_SECONDS", "20");
        assertThat(relayPod.getVolumes()).filteredOn(v -> v.getSecret() != null)
                .singleElement().satisfies(v -> assertThat(v.getSecret().getSecretName()).isEqualTo("porthole-relay-tls"));
        assertThat(relayPod.getTerminationGracePeriodSeconds()).isEqualTo(30L);
        Service relay = r.one(Service.class, "porthole-relay");
        assertThat(relay.getSpec().getType()).isEqualTo("ClusterIP");
        assertThat(relay.getSpec().getSelector()).containsEntry("app.kubernetes.io/component", "relay")
                .doesNotContainKey("porthole.dev/relay-leader");
        assertThat(relayDeployment.getSpec().getTemplate().getMetadata().getLabels())
                .containsAllEntriesOf(relay.getSpec().getSelector());
        Service agents = r.one(Service.class, "porthole-relay-agents");
        assertThat(agents.getSpec().getClusterIP()).isEqualTo("None");
        assertThat(agents.getSpec().getSelector()).isEqualTo(relay.getSpec().getSelector());
        assertThat(agents.getSpec().getPorts()).extracting(p -> p.getName()).containsExactly("relay-agents");
        // two replicas: spread over nodes, and drained one at a time
        assertThat(relayPod.getTopologySpreadConstraints()).singleElement().satisfies(t -> {
            assertThat(t.getTopologyKey()).isEqualTo("kubernetes.io/hostname");
            assertThat(t.getLabelSelector().getMatchLabels()).containsAllEntriesOf(relay.getSpec().getSelector());
        });
        PodDisruptionBudget relayBudget = r.one(PodDisruptionBudget.class, "porthole-relay");
        assertThat(relayBudget.getSpec().getMaxUnavailable().getIntVal()).isEqualTo(1);
        assertThat(relayBudget.getSpec().getSelector().getMatchLabels()).isEqualTo(relay.getSpec().getSelector());
    }

    @Test
    @DisplayName("a non-default values file: three replicas with leader election, a LoadBalancer for clients, a ServiceMonitor, scheduling")
    void productionValues() {
        // when
        Rendered r = Chart.template("porthole", "ops", "production.yaml");

        // then
        Deployment d = r.one(Deployment.class, "porthole-prod");
        assertThat(d.getSpec().getReplicas()).isEqualTo(3);
        assertThat(d.getSpec().getStrategy().getRollingUpdate().getMaxUnavailable().getIntVal()).isZero();
        var pod = d.getSpec().getTemplate().getSpec();
        assertThat(pod.getNodeSelector()).containsEntry("kubernetes.io/os", "linux");
        assertThat(pod.getTolerations()).singleElement().satisfies(t -> assertThat(t.getKey()).isEqualTo("dedicated"));
        assertThat(pod.getAffinity().getPodAntiAffinity()).isNotNull();
        Container c = pod.getContainers().get(0);
        assertThat(c.getImage()).isEqualTo("registry.example.com/porthole/operator:1.2.3");
        assertThat(c.getImagePullPolicy()).isEqualTo("Always");
        assertThat(c.getResources().getLimits().get("memory").toString()).isEqualTo("768Mi");
        assertThat(env(c)).containsEntry("PORTHOLE_LEADER_ELECTION", "true")
                .containsEntry("PORTHOLE_LEADER_ELECTION_LEASE", "porthole-prod-leader")
                .containsEntry("PORTHOLE_AGENT_IMAGE", "registry.example.com/porthole/agent:1.2.3")
                .containsEntry("PORTHOLE_RELAY_CLIENT_HOST", "relay.example.com")
                .containsEntry("PORTHOLE_RELAY_CLIENT_ADVERTISED_PORT", "7444")
                .containsEntry("PORTHOLE_RELAY_EXTRA_NAMES", "porthole.internal.example.com")
                .containsEntry("PORTHOLE_RELAY_EXTERNAL_CLIENT_PORT", "7445")
                .containsEntry("PORTHOLE_RELAY_EXTERNAL_CLIENT_ADDRESSES", "Preserved");
        assertThat(c.getPorts()).extracting(p -> p.getName() + "=" + p.getContainerPort())
                .contains("relay-clients=7444", "relay-external=7445");
        assertThat(r.one(Service.class, "porthole-prod-relay").getSpec().getSelector())
                .containsEntry("porthole.dev/relay-leader", "true");
        Service external = r.one(Service.class, "porthole-prod-relay-external");
        assertThat(external.getSpec().getType()).isEqualTo("LoadBalancer");
        assertThat(external.getSpec().getLoadBalancerSourceRanges()).containsExactly("203.0.113.0/24");
        // the load balancer reaches the external client listener, where Cluster-scope forwards are refused
        assertThat(external.getSpec().getPorts()).singleElement().satisfies(p -> {
            assertThat(p.getPort()).isEqualTo(7444);
            assertThat(p.getTargetPort().getStrVal()).isEqualTo("relay-external");
        });
        assertThat(r.one(Role.class, "porthole-prod-leader-election").getRules())
                .isEqualTo(OperatorIdentity.leaderElectionRole(OFFLINE).getRules());
        GenericKubernetesResource monitor = r.one(GenericKubernetesResource.class, "porthole-prod");
        assertThat(monitor.getKind()).isEqualTo("ServiceMonitor");
        assertThat(monitor.getMetadata().getLabels()).containsEntry("release", "prometheus");
        assertThat(r.find(ClusterRole.class, "porthole-prod-forwards")).as("not aggregated into edit/admin").isEmpty();
        assertThat(r.find(ClusterRole.class, "porthole-prod-connect")).as("the user roles are still there").isPresent();
        assertThat(r.find(ClusterRole.class, "porthole-prod-requester")).isPresent();
    }

    @Test
    @DisplayName("relay.external.type=Ingress renders a TLS-passthrough Ingress and tells clients port 443")
    void ingressValues() {
        // when
        Rendered r = Chart.template("porthole", "porthole-system", "ingress.yaml");

        // then
        Ingress ingress = r.one(Ingress.class, "porthole-relay");
        assertThat(ingress.getMetadata().getAnnotations()).containsEntry("nginx.ingress.kubernetes.io/ssl-passthrough", "true");
        assertThat(ingress.getSpec().getRules()).singleElement().satisfies(rule -> {
            assertThat(rule.getHost()).isEqualTo("porthole.example.com");
            assertThat(rule.getHttp().getPaths().get(0).getBackend().getService().getPort().getName()).isEqualTo("relay-external");
        });
        assertThat(r.one(Service.class, "porthole-relay").getSpec().getPorts()).extracting(p -> p.getName())
                .containsExactly("relay-agents", "relay-clients", "relay-external");
        assertThat(env(r.one(Deployment.class, "porthole").getSpec().getTemplate().getSpec().getContainers().get(0)))
                .containsEntry("PORTHOLE_RELAY_CLIENT_HOST", "porthole.example.com")
                .containsEntry("PORTHOLE_RELAY_CLIENT_ADVERTISED_PORT", "443")
                // TLS passthrough hides client addresses: Public forwards are refused through it
                .containsEntry("PORTHOLE_RELAY_EXTERNAL_CLIENT_ADDRESSES", "Unknown");
    }

    @ParameterizedTest(name = "{0} is refused: {1}")
    @CsvSource(delimiter = '|', value = {
        "bad-external-without-host.yaml | host",
        "bad-external-type.yaml         | '/relay/external/type': value must be one of",
        "bad-replicas-zero.yaml         | replicaCount",
        "bad-pull-policy.yaml           | pullPolicy",
        "bad-unknown-key.yaml           | replicas",
        "bad-root.yaml                  | runAsNonRoot",
        "bad-port.yaml                  | clientPort",
    })
    @DisplayName("values.schema.json refuses a bad values file and names the offending value")
    void badValuesRefused(String file, String named) {
        // when / then
        assertThatThrownBy(() -> Chart.template("porthole", "porthole-system", file))
                .hasMessageContaining("values don't meet the specifications of the schema")
                .hasMessageContaining(named);
    }

    @Test
    @DisplayName("the chart's CRDs are byte for byte the generated ones in crds/manifests")
    void crdsIdentical() throws IOException {
        // given
        Path generated = Chart.ROOT.resolve("crds/manifests");
        Path chart = Chart.DIR.resolve("crds");

        // when
        List<String> generatedNames = names(generated);

        // then
        assertThat(names(chart)).isEqualTo(generatedNames).isNotEmpty();
        for (String name : generatedNames) {
            assertThat(Files.readString(chart.resolve(name))).as(name).isEqualTo(Files.readString(generated.resolve(name)));
        }
    }

    @Test
    @DisplayName("the chart's operator RBAC and user roles equal the roles in the operator jar, and no rule has a wildcard")
    void rbacMatchesOperatorJar() {
        // when
        Rendered r = Chart.template("porthole", "porthole-system", null);

        // then
        assertThat(r.one(ClusterRole.class, "porthole-operator").getRules())
                .isEqualTo(OperatorIdentity.clusterRole(OFFLINE).getRules());
        assertThat(r.one(Role.class, "porthole-operator").getRules())
                .isEqualTo(OperatorIdentity.namespaceRole(OFFLINE).getRules());
        assertThat(r.one(ClusterRole.class, "porthole-connect").getRules()).isEqualTo(OperatorIdentity.connectRole(OFFLINE).getRules());
        assertThat(r.one(ClusterRole.class, "porthole-relay").getRules()).isEqualTo(OperatorIdentity.relayRole(OFFLINE).getRules());
        assertThat(r.one(ClusterRole.class, "porthole-requester").getRules())
                .isEqualTo(OperatorIdentity.requesterRole(OFFLINE).getRules());
        ClusterRole forwards = r.one(ClusterRole.class, "porthole-forwards");
        assertThat(forwards.getMetadata().getLabels()).containsEntry("rbac.authorization.k8s.io/aggregate-to-edit", "true")
                .containsEntry("rbac.authorization.k8s.io/aggregate-to-admin", "true");
        assertThat(forwards.getRules()).isEqualTo(OperatorIdentity.requesterRole(OFFLINE).getRules());
        Stream<PolicyRule> all = Stream.concat(r.all(ClusterRole.class).stream().flatMap(role -> role.getRules().stream()),
                r.all(Role.class).stream().flatMap(role -> role.getRules().stream()));
        assertThat(all).allSatisfy(rule -> {
            assertThat(rule.getVerbs()).doesNotContain("*");
            assertThat(rule.getResources()).doesNotContain("*");
            assertThat(rule.getApiGroups()).doesNotContain("*");
        });
    }

    @Test
    @DisplayName("the chart's creator admission policy and binding equal the ones in the CRD jar; admissionPolicy.create=false omits both")
    void admissionPolicyMatchesCrdJar() throws IOException {
        // given
        List<HasMetadata> shipped;
        try (var in = CreatorAdmissionPolicy.class.getResourceAsStream(CreatorAdmissionPolicy.RESOURCE)) {
            shipped = OFFLINE.load(in).items();
        }

        // when
        Rendered r = Chart.template("porthole", "porthole-system", null);
        Rendered without = Chart.template("porthole", "porthole-system", "no-admission-policy.yaml");

        // then
        assertThat(r.one(ValidatingAdmissionPolicy.class, CreatorAdmissionPolicy.POLICY_NAME).getSpec())
                .isEqualTo(((ValidatingAdmissionPolicy) shipped.get(0)).getSpec());
        assertThat(r.one(ValidatingAdmissionPolicyBinding.class, CreatorAdmissionPolicy.BINDING_NAME).getSpec())
                .isEqualTo(((ValidatingAdmissionPolicyBinding) shipped.get(1)).getSpec());
        assertThat(without.kinds()).noneMatch(k -> k.startsWith("ValidatingAdmissionPolicy"));
    }

    @Test
    @DisplayName("connect holds only certificate requests (create, get) and reading a forward by name; requester only PortForwards; neither Secrets, pods nor approval")
    void userRolesHoldOnlyTheirRules() {
        // when
        Rendered r = Chart.template("porthole", "porthole-system", null);
        ClusterRole connect = r.one(ClusterRole.class, "porthole-connect");
        ClusterRole requester = r.one(ClusterRole.class, "porthole-requester");

        // then
        assertThat(connect.getRules()).satisfiesExactly(rule -> {
            assertThat(rule.getApiGroups()).containsExactly("certificates.k8s.io");
            assertThat(rule.getResources()).containsExactly("certificatesigningrequests");
            assertThat(rule.getVerbs()).containsExactlyInAnyOrder("create", "get");
        }, rule -> {
            assertThat(rule.getApiGroups()).containsExactly("porthole.dev");
            assertThat(rule.getResources()).containsExactly("portforwards");
            assertThat(rule.getVerbs()).as("by name only: no list or watch").containsExactly("get");
        });
        assertThat(requester.getRules()).singleElement().satisfies(rule -> {
            assertThat(rule.getApiGroups()).containsExactly("porthole.dev");
            assertThat(rule.getResources()).containsExactly("portforwards");
            assertThat(rule.getVerbs()).containsExactlyInAnyOrder("get", "list", "watch", "create", "patch", "update", "delete");
        });
        assertThat(Stream.of(connect, requester).flatMap(role -> role.getRules().stream()))
                .allSatisfy(rule -> assertThat(rule.getResources()).doesNotContain("secrets", "pods", "pods/portforward",
                        "pods/exec", "certificatesigningrequests/approval", "certificatesigningrequests/status", "signers"))
                .allSatisfy(rule -> assertThat(rule.getVerbs()).doesNotContain("approve", "sign", "bind", "escalate", "impersonate"));
    }

    private static Map<String, String> env(Container c) {
        return c.getEnv().stream().filter(e -> e.getValue() != null)
                .collect(java.util.stream.Collectors.toMap(EnvVar::getName, EnvVar::getValue));
    }

    private static List<String> names(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
