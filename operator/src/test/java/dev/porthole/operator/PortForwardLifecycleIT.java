package dev.porthole.operator;

import static dev.porthole.operator.support.Forwards.eventReasons;
import static dev.porthole.operator.support.Forwards.toPod;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.porthole.api.v1alpha1.BindScope;
import dev.porthole.api.v1alpha1.Phase;
import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.api.v1alpha1.PortForwardPolicy;
import dev.porthole.api.v1alpha1.Target;
import dev.porthole.operator.access.ForwardRefs;
import dev.porthole.operator.reconcile.AgentInjector;
import dev.porthole.operator.reconcile.AgentTokenSecret;
import dev.porthole.operator.support.Forwards;
import dev.porthole.operator.support.Policies;
import dev.porthole.testcluster.Kubelet;
import dev.porthole.operator.support.OperatorPerClass;
import dev.porthole.testcluster.LocalCluster;
import dev.porthole.testcluster.TestCluster;
import dev.porthole.testcluster.TestNamespace;
import dev.porthole.protocol.pki.AgentIdentity;
import dev.porthole.protocol.pki.Pem;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EphemeralContainer;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The whole reconcile lifecycle, on the real API server, with the operator under its own RBAC only. */
@LocalCluster
class PortForwardLifecycleIT {
    @RegisterExtension
    static final OperatorPerClass operator = new OperatorPerClass();
    private KubernetesClient admin;

    @BeforeEach
    void clients(TestCluster cluster) {
        admin = cluster.admin();
    }

    @Test
    @DisplayName("a forward to a ready pod becomes Active: token Secret, hardened agent, status, Events")
    void acceptedAndActivated(TestNamespace ns) {
        // given
        Kubelet.runningPod(admin, ns.name(), "orders-db-0", Map.of("app", "orders-db"), "postgres", 5432);

        // when
        admin.resource(toPod(ns.name(), "debug", "orders-db-0", 5432, "30m")).create();

        // then
        PortForward pf = awaitPhase(ns, "debug", Phase.Active);
        assertThat(pf.getStatus().getTarget()).isEqualTo("pod/orders-db-0:5432");
        assertThat(Instant.parse(pf.getStatus().getExpiresAt()))
                .isEqualTo(Instant.parse(pf.getMetadata().getCreationTimestamp()).plus(Duration.ofMinutes(30)));
        assertThat(pf.getStatus().getObservedGeneration()).isEqualTo(pf.getMetadata().getGeneration());
        assertThat(pf.getStatus().getAgent().getPod()).isEqualTo("orders-db-0");
        assertThat(pf.getStatus().getConditions()).extracting(c -> c.getType() + "=" + c.getStatus())
                .contains("Ready=True", "PolicyCompliant=True", "AgentConnected=False");

        Secret secret = admin.secrets().inNamespace(ns.name()).withName(AgentTokenSecret.nameFor(pf)).get();
        assertThat(secret.getMetadata().getOwnerReferences()).singleElement()
                .satisfies(o -> assertThat(o.getUid()).isEqualTo(pf.getMetadata().getUid()));
        assertThat(Base64.getUrlDecoder().decode(new String(Base64.getDecoder().decode(secret.getData().get("token")))))
                .hasSizeGreaterThanOrEqualTo(32);
        X509Certificate agentCertificate = Pem.readCertificate(new String(Base64.getDecoder().decode(
                secret.getData().get(AgentTokenSecret.CERT_KEY)), StandardCharsets.UTF_8));
        assertThat(AgentIdentity.fromCertificate(agentCertificate)).isEqualTo(new AgentIdentity(
                ForwardRefs.of(pf), pf.getMetadata().getUid(), Instant.parse(pf.getStatus().getExpiresAt())));
        assertThat(secret.getData()).containsKey(AgentTokenSecret.KEY_KEY);

        EphemeralContainer agent = agentOf(ns, "orders-db-0");
        assertThat(agent.getName()).isEqualTo(AgentInjector.containerName(pf));
        assertThat(agent.getSecurityContext().getRunAsNonRoot()).isTrue();
        assertThat(agent.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
        assertThat(agent.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
        assertThat(agent.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
        Map<String, EnvVar> env = agent.getEnv().stream().collect(java.util.stream.Collectors.toMap(EnvVar::getName, e -> e));
        assertThat(env.get("PORTHOLE_TARGET_PORT").getValue()).isEqualTo("5432");
        assertThat(env.get("PORTHOLE_FORWARD").getValue()).isEqualTo(ns.name() + "/debug");
        assertThat(env.get("PORTHOLE_DEADLINE").getValue()).isEqualTo(pf.getStatus().getExpiresAt());
        assertThat(env.get("PORTHOLE_RELAY_ADDRESS").getValue()).isEqualTo(operator.get().operator().endpoints().agentAddress());
        assertThat(env.get("PORTHOLE_CA_PEM").getValue()).startsWith("-----BEGIN CERTIFICATE-----");
        assertThat(pf.getStatus().getRelay().getAddress()).isEqualTo(operator.get().operator().endpoints().clientAddress());
        assertThat(env.get("PORTHOLE_AGENT_TOKEN").getValueFrom().getSecretKeyRef().getName()).isEqualTo(secret.getMetadata().getName());
        assertThat(env.get("PORTHOLE_AGENT_CERT_PEM").getValueFrom().getSecretKeyRef())
                .satisfies(r -> assertThat(r.getName() + ":" + r.getKey()).isEqualTo(secret.getMetadata().getName() + ":tls.crt"));
        assertThat(env.get("PORTHOLE_AGENT_KEY_PEM").getValueFrom().getSecretKeyRef())
                .satisfies(r -> assertThat(r.getName() + ":" + r.getKey()).isEqualTo(secret.getMetadata().getName() + ":tls.key"));

        await().untilAsserted(() -> assertThat(eventReasons(admin, ns.name(), "debug")).containsExactly("Accepted", "AgentInjected"));
        assertThat(Forwards.events(admin, ns.name(), "debug")).allSatisfy(e -> {
            assertThat(e.getRegarding().getUid()).isEqualTo(pf.getMetadata().getUid());
            assertThat(e.getReportingController()).isEqualTo("porthole.dev/operator");
        });
    }

    @Test
    @DisplayName("a label selector picks the oldest Running and Ready pod and resolves a named port")
    void selectorAndNamedPort(TestNamespace ns) {
        // given: the oldest matching pod is not ready, so the next one is chosen
        Kubelet.createPending(admin, ns.name(), "cache-0", Map.of("app", "cache"));
        Kubelet.runningPod(admin, ns.name(), "cache-1", Map.of("app", "cache"), "redis", 6379);
        Kubelet.runningPod(admin, ns.name(), "cache-2", Map.of("app", "cache"), "redis", 6379);
        Target target = new Target();
        target.setSelector(Map.of("app", "cache"));
        target.setPort(new IntOrString("redis"));

        // when
        admin.resource(Forwards.forward(ns.name(), "cache", target, "10m")).create();

        // then
        PortForward pf = awaitPhase(ns, "cache", Phase.Active);
        assertThat(pf.getStatus().getTarget()).isEqualTo("pod/cache-1:6379");
        assertThat(agentOf(ns, "cache-1").getEnv()).contains(new EnvVar("PORTHOLE_TARGET_PORT", "6379", null));
        assertThat(admin.pods().inNamespace(ns.name()).withName("cache-2").get().getSpec().getEphemeralContainers()).isEmpty();
    }

    @Test
    @DisplayName("a service target reaches a pod behind the service on the service's target port")
    void serviceTarget(TestNamespace ns) {
        // given
        Kubelet.runningPod(admin, ns.name(), "web-0", Map.of("app", "web"), "http", 8080);
        admin.resource(new ServiceBuilder().withNewMetadata().withName("web").withNamespace(ns.name()).endMetadata()
                .withNewSpec().withSelector(Map.of("app", "web")).addNewPort().withName("http").withPort(80)
                .withTargetPort(new IntOrString("http")).endPort().endSpec().build()).create();
        Target target = new Target();
        target.setService("web");
        target.setPort(new IntOrString(80));

        // when
        admin.resource(Forwards.forward(ns.name(), "web", target, "10m")).create();

        // then
        assertThat(awaitPhase(ns, "web", Phase.Active).getStatus().getTarget()).isEqualTo("pod/web-0:8080");
    }

    @Test
    @DisplayName("a TTL over the policy maximum is Rejected with the reason, an Event, and nothing created")
    void rejectedByPolicyTtl(TestNamespace ns) {
        // given
        PortForwardPolicy policy = maxTtlPolicy("cap-" + ns.name(), ns.name(), "1h");
        admin.resource(policy).create();
        Kubelet.runningPod(admin, ns.name(), "db-0", Map.of(), "pg", 5432);

        try {
            // when
            admin.resource(toPod(ns.name(), "long", "db-0", 5432, "2h")).create();

            // then
            PortForward pf = awaitPhase(ns, "long", Phase.Rejected);
            assertThat(pf.getStatus().getMessage()).isEqualTo("ttl 2h exceeds the policy maximum of 1h");
            assertThat(pf.getStatus().getConditions()).anySatisfy(c -> {
                assertThat(c.getType()).isEqualTo("PolicyCompliant");
                assertThat(c.getStatus()).isEqualTo("False");
                assertThat(c.getMessage()).isEqualTo("ttl 2h exceeds the policy maximum of 1h");
            });
            await().untilAsserted(() -> assertThat(Forwards.events(admin, ns.name(), "long")).singleElement()
                    .satisfies(e -> {
                        assertThat(e.getReason()).isEqualTo("Rejected");
                        assertThat(e.getNote()).contains("ttl 2h exceeds the policy maximum of 1h");
                    }));
            assertThat(admin.secrets().inNamespace(ns.name()).withName(AgentTokenSecret.nameFor(pf)).get()).isNull();
            assertThat(admin.pods().inNamespace(ns.name()).withName("db-0").get().getSpec().getEphemeralContainers()).isEmpty();
        } finally {
            admin.resource(policy).delete();
        }
    }

    @Test
    @DisplayName("source ranges that together let in every IPv4 address are refused like 0.0.0.0/0 unless the policy allows any source")
    void sourceRangesCoveringEverythingRejected(TestNamespace ns) {
        // given: a policy that allows Public forwards but not from anywhere
        PortForwardPolicy policy = Policies.governing("public-" + ns.name(), ns.name(),
                s -> s.setAllowedBindScopes(List.of(BindScope.Loopback, BindScope.Public)));
        admin.resource(policy).create();
        Kubelet.runningPod(admin, ns.name(), "web-0", Map.of(), "http", 8080);
        try {
            // when
            PortForward halves = toPod(ns.name(), "halves", "web-0", 8080, "10m");
            halves.getSpec().setBindScope(BindScope.Public);
            halves.getSpec().setSourceRanges(List.of("0.0.0.0/1", "128.0.0.0/1"));
            admin.resource(halves).create();
            PortForward office = toPod(ns.name(), "office", "web-0", 8080, "10m");
            office.getSpec().setBindScope(BindScope.Public);
            office.getSpec().setSourceRanges(List.of("203.0.113.0/24"));
            admin.resource(office).create();

            // then
            assertThat(awaitPhase(ns, "halves", Phase.Rejected).getStatus().getMessage())
                    .isEqualTo("sourceRanges 0.0.0.0/1, 128.0.0.0/1 together cover every IPv4 address; policy does not allow it");
            awaitPhase(ns, "office", Phase.Active);
        } finally {
            admin.resource(policy).delete();
        }
    }

    @Test
    @DisplayName("a policy tightened while a forward is Active rejects it within seconds and cuts its sessions")
    void tightenedPolicyReachesActiveForward(TestNamespace ns) {
        // given: an Active forward of 2h, which is rescheduled only once a minute
        Kubelet.runningPod(admin, ns.name(), "db-0", Map.of(), "pg", 5432);
        admin.resource(toPod(ns.name(), "db", "db-0", 5432, "2h")).create();
        awaitPhase(ns, "db", Phase.Active);
        PortForwardPolicy policy = maxTtlPolicy("tighten-" + ns.name(), ns.name(), "1h");
        try {
            // when
            admin.resource(policy).create();

            // then
            PortForward pf = await().atMost(Duration.ofSeconds(10)).until(
                    () -> admin.resources(PortForward.class).inNamespace(ns.name()).withName("db").get(),
                    f -> f.getStatus().getPhase() == Phase.Rejected);
            assertThat(pf.getStatus().getMessage()).isEqualTo("ttl 2h exceeds the policy maximum of 1h");
            assertThat(operator.get().closedForwards())
                    .contains(ns.name() + "/db:rejected by policy: ttl 2h exceeds the policy maximum of 1h");
        } finally {
            admin.resource(policy).delete();
        }
    }

    @Test
    @DisplayName("without a policy only Loopback is allowed: a Cluster-scoped forward is Rejected")
    void defaultPolicyRejectsWiderScope(TestNamespace ns) {
        // given
        Kubelet.runningPod(admin, ns.name(), "db-0", Map.of(), "pg", 5432);
        PortForward pf = toPod(ns.name(), "wide", "db-0", 5432, "10m");
        pf.getSpec().setBindScope(BindScope.Cluster);

        // when
        admin.resource(pf).create();

        // then
        assertThat(awaitPhase(ns, "wide", Phase.Rejected).getStatus().getMessage())
                .isEqualTo("bindScope Cluster is not allowed by policy (allowed: [Loopback])");
    }

    @Test
    @DisplayName("reconciling again never injects a second agent nor rewrites the token")
    void idempotentReconcile(TestNamespace ns) {
        // given
        Kubelet.runningPod(admin, ns.name(), "db-0", Map.of(), "pg", 5432);
        admin.resource(toPod(ns.name(), "again", "db-0", 5432, "10m")).create();
        PortForward pf = awaitPhase(ns, "again", Phase.Active);
        String token = admin.secrets().inNamespace(ns.name()).withName(AgentTokenSecret.nameFor(pf)).get().getData().get("token");

        // when: the pod changes (an event for the reconciler) and the forward is touched, twice
        admin.pods().inNamespace(ns.name()).withName("db-0").edit(p -> {
            p.getMetadata().getLabels().put("touched", "1");
            return p;
        });
        operator.get().restart();
        admin.pods().inNamespace(ns.name()).withName("db-0").edit(p -> {
            p.getMetadata().getLabels().put("touched", "2");
            return p;
        });

        // then
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(admin.pods().inNamespace(ns.name()).withName("db-0").get().getSpec().getEphemeralContainers()).hasSize(1);
            assertThat(admin.secrets().inNamespace(ns.name()).withLabel("porthole.dev/forward", "again").list().getItems())
                    .singleElement().satisfies(s -> assertThat(s.getData().get("token")).isEqualTo(token));
        });
        assertThat(eventReasons(admin, ns.name(), "again")).containsExactly("Accepted", "AgentInjected");
    }

    @Test
    @DisplayName("a short forward is deleted within a second of expiresAt, with its Secret, and an Expired Event")
    void shortTtlExpiresOnTime(TestNamespace ns) {
        // given
        Kubelet.runningPod(admin, ns.name(), "db-0", Map.of(), "pg", 5432);
        admin.resource(toPod(ns.name(), "brief", "db-0", 5432, "6s")).create();
        PortForward pf = awaitPhase(ns, "brief", Phase.Active);
        Instant expiresAt = Instant.parse(pf.getStatus().getExpiresAt());

        // when
        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(50)).until(() ->
                admin.resources(PortForward.class).inNamespace(ns.name()).withName("brief").get() == null);
        Instant goneAt = Instant.now();

        // then
        assertThat(Duration.between(expiresAt, goneAt)).isLessThan(Duration.ofSeconds(1));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(admin.secrets().inNamespace(ns.name()).withName(AgentTokenSecret.nameFor(pf)).get()).isNull());
        assertThat(eventReasons(admin, ns.name(), "brief")).containsExactly("Accepted", "AgentInjected", "Expired");
        assertThat(operator.get().closedForwards()).contains(ns.name() + "/brief:expired");
    }

    @Test
    @DisplayName("a forward re-applied after its notAfter is expired at once, never activated")
    void notAfterInThePast(TestNamespace ns) {
        // given
        Kubelet.runningPod(admin, ns.name(), "db-0", Map.of(), "pg", 5432);
        PortForward pf = toPod(ns.name(), "stale", "db-0", 5432, "1h");
        pf.getSpec().setNotAfter(Instant.now().minus(Duration.ofMinutes(5)).truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString());

        // when
        admin.resource(pf).create();

        // then
        await().atMost(Duration.ofSeconds(10)).until(() ->
                admin.resources(PortForward.class).inNamespace(ns.name()).withName("stale").get() == null);
        assertThat(eventReasons(admin, ns.name(), "stale")).containsExactly("Expired");
        assertThat(admin.pods().inNamespace(ns.name()).withName("db-0").get().getSpec().getEphemeralContainers()).isEmpty();
    }

    @Test
    @DisplayName("a target pod deleted mid-forward makes it Failed; a new pod brings it back to Active")
    void targetPodDeletedAndRecreated(TestNamespace ns) {
        // given
        Kubelet.runningPod(admin, ns.name(), "db-0", Map.of(), "pg", 5432);
        admin.resource(toPod(ns.name(), "fragile", "db-0", 5432, "10m")).create();
        awaitPhase(ns, "fragile", Phase.Active);

        // when
        Kubelet.deleteNow(admin, ns.name(), "db-0");

        // then
        // (it may first be seen "being deleted", then gone)
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            PortForward failed = admin.resources(PortForward.class).inNamespace(ns.name()).withName("fragile").get();
            assertThat(failed.getStatus().getPhase()).isEqualTo(Phase.Failed);
            assertThat(failed.getStatus().getMessage()).isEqualTo("pod db-0 does not exist in namespace " + ns.name());
        });
        await().untilAsserted(() -> assertThat(eventReasons(admin, ns.name(), "fragile")).contains("TargetUnavailable"));

        // when
        Kubelet.runningPod(admin, ns.name(), "db-0", Map.of(), "pg", 5432);

        // then
        awaitPhase(ns, "fragile", Phase.Active);
        assertThat(agentOf(ns, "db-0")).isNotNull();
        // the new pod may be seen Pending before Ready: a second TargetUnavailable with that reason is right
        assertThat(eventReasons(admin, ns.name(), "fragile"))
                .startsWith("Accepted", "AgentInjected", "TargetUnavailable")
                .endsWith("AgentInjected")
                .filteredOn("AgentInjected"::equals).hasSize(2);
    }

    @Test
    @DisplayName("a pod that never becomes ready leaves the forward Failed with the reason")
    void podNeverReady(TestNamespace ns) {
        // given
        Kubelet.createPending(admin, ns.name(), "slow-0", Map.of());

        // when
        admin.resource(toPod(ns.name(), "waiting", "slow-0", 5432, "10m")).create();

        // then
        assertThat(awaitPhase(ns, "waiting", Phase.Failed).getStatus().getMessage())
                .isEqualTo("pod slow-0 is not Running and Ready (phase Pending)");
    }

    @Test
    @DisplayName("deleting a forward before expiry revokes it: Revoked Event and sessions closed")
    void userDeletionRevokes(TestNamespace ns) {
        // given
        Kubelet.runningPod(admin, ns.name(), "db-0", Map.of(), "pg", 5432);
        admin.resource(toPod(ns.name(), "revoke-me", "db-0", 5432, "10m")).create();
        awaitPhase(ns, "revoke-me", Phase.Active);

        // when
        admin.resources(PortForward.class).inNamespace(ns.name()).withName("revoke-me").delete();

        // then
        await().until(() -> admin.resources(PortForward.class).inNamespace(ns.name()).withName("revoke-me").get() == null);
        assertThat(eventReasons(admin, ns.name(), "revoke-me")).containsExactly("Accepted", "AgentInjected", "Revoked");
        assertThat(operator.get().closedForwards()).contains(ns.name() + "/revoke-me:revoked");
    }

    @Test
    @DisplayName("an operator that was down past a forward's expiry expires it at once on restart")
    void restartedOperatorExpiresOverdueForward(TestNamespace ns) {
        // given
        Kubelet.runningPod(admin, ns.name(), "db-0", Map.of(), "pg", 5432);
        admin.resource(toPod(ns.name(), "overdue", "db-0", 5432, "4s")).create();
        PortForward pf = awaitPhase(ns, "overdue", Phase.Active);
        operator.get().stop();
        Instant expiresAt = Instant.parse(pf.getStatus().getExpiresAt());
        await().atMost(Duration.ofSeconds(10)).until(() -> Instant.now().isAfter(expiresAt.plusSeconds(1)));
        assertThat(admin.resources(PortForward.class).inNamespace(ns.name()).withName("overdue").get()).isNotNull();

        // when
        operator.get().restart();

        // then
        await().atMost(Duration.ofSeconds(10)).until(() ->
                admin.resources(PortForward.class).inNamespace(ns.name()).withName("overdue").get() == null);
        assertThat(eventReasons(admin, ns.name(), "overdue")).containsExactly("Accepted", "AgentInjected", "Expired");
    }

    private static PortForwardPolicy maxTtlPolicy(String name, String namespace, String maxTtl) {
        return Policies.governing(name, namespace, spec -> spec.setMaxTtl(maxTtl));
    }

    private PortForward awaitPhase(TestNamespace ns, String name, Phase phase) {
        return Forwards.awaitPhase(admin, ns.name(), name, phase, Duration.ofSeconds(20));
    }

    private EphemeralContainer agentOf(TestNamespace ns, String podName) {
        Pod pod = admin.pods().inNamespace(ns.name()).withName(podName).get();
        assertThat(pod.getSpec().getEphemeralContainers()).hasSize(1);
        return pod.getSpec().getEphemeralContainers().get(0);
    }
}
