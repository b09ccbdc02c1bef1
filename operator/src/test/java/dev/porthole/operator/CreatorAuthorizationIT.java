package dev.porthole.operator;

import static dev.porthole.operator.support.Forwards.toPod;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.porthole.api.v1alpha1.Phase;
import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.operator.OperatorIdentity;
import dev.porthole.operator.reconcile.AgentTokenSecret;
import dev.porthole.operator.support.Forwards;
import dev.porthole.operator.support.OperatorPerClass;
import dev.porthole.testcluster.CreatorAdmission;
import dev.porthole.testcluster.Creators;
import dev.porthole.testcluster.Identity;
import dev.porthole.testcluster.Kubelet;
import dev.porthole.testcluster.LocalCluster;
import dev.porthole.testcluster.TestCluster;
import dev.porthole.testcluster.TestNamespace;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/**
 * A forward never grants more than its creator could take with {@code kubectl port-forward}: the API
 * server refuses it at admission, the operator refuses it again (SubjectAccessReview) before injecting,
 * and the creator is recorded where nobody can forge or change it. Real users, real RBAC, real kubectl.
 */
@LocalCluster
class CreatorAuthorizationIT {
    /** Exactly the chart's porthole-requester role (ChartRenderIT proves the jar copy equal to the chart's). */
    private static final PolicyRule FORWARDS = requesterRule();
    private static final PolicyRule PORT_FORWARD = new PolicyRuleBuilder().withApiGroups("")
            .withResources("pods/portforward").withVerbs("create").build();

    @RegisterExtension
    static final OperatorPerClass operator = new OperatorPerClass();
    private TestCluster cluster;
    private KubernetesClient admin;

    @BeforeEach
    void clients(TestCluster cluster) {
        this.cluster = cluster;
        admin = cluster.admin();
    }

    @Test
    @DisplayName("a user bound to porthole-requester but without pods/portforward is refused at kubectl apply, with what is missing")
    void noPortForwardRightRefusedAtAdmission(TestNamespace ns) {
        // given
        grant(ns.name(), Identity.MALLORY, FORWARDS);
        Kubelet.runningPod(admin, ns.name(), "payments-api-0", Map.of("app", "payments-api"), "admin", 8200);

        // when
        TestCluster.KubectlResult byName = apply(Identity.MALLORY, ns, forwardYaml("by-name", "pod: payments-api-0", Identity.MALLORY));
        TestCluster.KubectlResult bySelector = apply(Identity.MALLORY, ns,
                forwardYaml("by-selector", "selector: { app: payments-api }", Identity.MALLORY));

        // then
        assertThat(byName.succeeded()).isFalse();
        assertThat(byName.stderr()).contains("mallory may not forward to pod payments-api-0 in namespace " + ns.name()
                + " (needs create on pods/portforward)");
        assertThat(bySelector.succeeded()).isFalse();
        assertThat(bySelector.stderr()).contains("mallory may not forward to pods in namespace " + ns.name()
                + " (needs create on pods/portforward)");
        assertThat(admin.resources(PortForward.class).inNamespace(ns.name()).list().getItems()).isEmpty();
    }

    @Test
    @DisplayName("the right to port-forward in namespace A admits a forward in A and nowhere else; in A it goes Active")
    void rightInOneNamespaceOnly(TestNamespace a) {
        String b = cluster.createNamespace("other");
        try {
            // given
            grant(a.name(), Identity.BOB, FORWARDS, PORT_FORWARD);
            grant(b, Identity.BOB, FORWARDS);
            Kubelet.runningPod(admin, a.name(), "db-0", Map.of(), "pg", 5432);
            Kubelet.runningPod(admin, b, "db-0", Map.of(), "pg", 5432);

            // when
            TestCluster.KubectlResult inA = apply(Identity.BOB, a.name(), forwardYaml("db", "pod: db-0", Identity.BOB));
            TestCluster.KubectlResult inB = apply(Identity.BOB, b, forwardYaml("db", "pod: db-0", Identity.BOB));

            // then
            assertThat(inA.succeeded()).as(inA.stderr()).isTrue();
            assertThat(inB.succeeded()).isFalse();
            assertThat(inB.stderr()).contains("bob may not forward to pod db-0 in namespace " + b);
            PortForward pf = awaitPhase(a, "db", Phase.Active);
            assertThat(pf.getSpec().getRequestedBy()).isEqualTo(Creators.of(Identity.BOB));
            assertThat(pf.getStatus().getConditions()).anySatisfy(c -> {
                assertThat(c.getType()).isEqualTo("CreatorAuthorized");
                assertThat(c.getStatus()).isEqualTo("True");
            });
        } finally {
            cluster.deleteNamespace(b);
        }
    }

    @Test
    @DisplayName("a missing or forged creator is refused at admission with exactly what to write")
    void creatorCannotBeForged(TestNamespace ns) {
        // given
        grant(ns.name(), Identity.BOB, FORWARDS, PORT_FORWARD);
        String exact = "set spec.requestedBy: {user: \"bob\", groups: [\"dev-team\", \"system:authenticated\"]}";

        // when
        TestCluster.KubectlResult missing = apply(Identity.BOB, ns, forwardYaml("a", "pod: db-0", null));
        TestCluster.KubectlResult asAlice = apply(Identity.BOB, ns, forwardYaml("b", "pod: db-0", Identity.ALICE));
        TestCluster.KubectlResult fewerGroups = apply(Identity.BOB, ns,
                forwardYaml("c", "pod: db-0", null).replace("spec:\n", "spec:\n  requestedBy: { user: bob, groups: [dev-team] }\n"));

        // then
        assertThat(missing.succeeded()).isFalse();
        assertThat(missing.stderr()).contains("spec.requestedBy is missing").contains(exact);
        assertThat(asAlice.succeeded()).isFalse();
        assertThat(asAlice.stderr()).contains("spec.requestedBy does not match who you are").contains(exact);
        assertThat(fewerGroups.succeeded()).isFalse();
        assertThat(fewerGroups.stderr()).contains(exact);
    }

    @Test
    @DisplayName("nobody, not even the cluster admin, can change the creator afterwards")
    void creatorCannotBeChanged(TestNamespace ns) {
        // given
        grant(ns.name(), Identity.BOB, FORWARDS, PORT_FORWARD);
        assertThat(apply(Identity.BOB, ns, forwardYaml("db", "pod: db-0", Identity.BOB)).succeeded()).isTrue();

        // when
        TestCluster.KubectlResult byBob = apply(Identity.BOB, ns, forwardYaml("db", "pod: db-0", Identity.ALICE));
        TestCluster.KubectlResult byAdmin = apply(Identity.ADMIN, ns, forwardYaml("db", "pod: db-0", Identity.ADMIN));

        // then
        assertThat(byBob.succeeded()).isFalse();
        assertThat(byBob.stderr()).contains("requestedBy records who created the forward and cannot be changed");
        assertThat(byAdmin.succeeded()).isFalse();
        assertThat(byAdmin.stderr()).contains("requestedBy records who created the forward and cannot be changed");
    }

    @Test
    @DisplayName("without the admission policy the operator still refuses: SubjectAccessReview, unverified creators, nothing injected")
    void operatorRefusesWithoutAdmissionPolicy(TestNamespace ns) {
        // given: a cluster whose admission policy is missing; mallory may write forwards but not port-forward
        grant(ns.name(), Identity.MALLORY, FORWARDS);
        grant(ns.name(), Identity.BOB, FORWARDS, PORT_FORWARD);
        Kubelet.runningPod(admin, ns.name(), "db-0", Map.of(), "pg", 5432);
        CreatorAdmission.removeBinding(admin);
        try {
            // when
            assertThat(apply(Identity.MALLORY, ns, forwardYaml("honest", "pod: db-0", Identity.MALLORY)).succeeded()).isTrue();
            assertThat(apply(Identity.MALLORY, ns, forwardYaml("forged", "pod: db-0", Identity.ADMIN)).succeeded()).isTrue();
            assertThat(apply(Identity.BOB, ns, forwardYaml("rightful", "pod: db-0", Identity.BOB)).succeeded()).isTrue();

            // then
            PortForward honest = awaitPhase(ns, "honest", Phase.Rejected);
            assertThat(honest.getStatus().getMessage())
                    .contains("mallory may not forward to pod db-0 in namespace " + ns.name() + " (needs create on pods/portforward)")
                    .contains("the creator mallory cannot be verified");
            PortForward forged = awaitPhase(ns, "forged", Phase.Rejected);
            assertThat(forged.getStatus().getMessage()).contains("the creator porthole-admin cannot be verified")
                    .contains("admission policy porthole-creator or its binding is missing");
            PortForward rightful = awaitPhase(ns, "rightful", Phase.Rejected);
            assertThat(rightful.getStatus().getMessage()).startsWith("the creator bob cannot be verified");
            assertThat(rightful.getStatus().getConditions()).anySatisfy(c -> {
                assertThat(c.getType()).isEqualTo("CreatorAuthorized");
                assertThat(c.getStatus()).isEqualTo("False");
                assertThat(c.getReason()).isEqualTo("CreatorUnverified");
            });
            await().untilAsserted(() -> assertThat(Forwards.events(admin, ns.name(), "honest")).anySatisfy(e -> {
                assertThat(e.getReason()).isEqualTo("Rejected");
                assertThat(e.getNote()).contains("mallory may not forward to pod db-0").contains("creator=mallory");
            }));
            for (PortForward pf : List.of(honest, forged, rightful)) {
                assertThat(admin.secrets().inNamespace(ns.name()).withName(AgentTokenSecret.nameFor(pf)).get()).isNull();
            }
            assertThat(admin.pods().inNamespace(ns.name()).withName("db-0").get().getSpec().getEphemeralContainers()).isEmpty();
        } finally {
            CreatorAdmission.install(admin);
        }
    }

    @Test
    @DisplayName("a forward created before the policy was bound stays unverified after it is bound")
    void forwardFromBeforeThePolicyStaysUnverified(TestNamespace ns) {
        // given
        grant(ns.name(), Identity.BOB, FORWARDS, PORT_FORWARD);
        Kubelet.runningPod(admin, ns.name(), "db-0", Map.of(), "pg", 5432);
        CreatorAdmission.removeBinding(admin);
        try {
            assertThat(apply(Identity.BOB, ns, forwardYaml("early", "pod: db-0", Identity.BOB)).succeeded()).isTrue();
        } finally {
            CreatorAdmission.install(admin);
        }

        // when: something makes the operator look again
        admin.resources(PortForward.class).inNamespace(ns.name()).withName("early").edit(pf -> {
            pf.getSpec().setTtl("20m");
            return pf;
        });

        // then
        PortForward pf = await().until(() -> get(ns, "early"), f -> f.getStatus() != null
                && f.getStatus().getObservedGeneration() != null && f.getStatus().getObservedGeneration() == 2L);
        assertThat(pf.getStatus().getPhase()).isEqualTo(Phase.Rejected);
        assertThat(pf.getStatus().getMessage()).contains("the creator bob cannot be verified: the admission policy has been in force only since");
    }

    @Test
    @DisplayName("a creator whose right is revoked loses the forward: the operator's SubjectAccessReview rejects it and cuts it")
    void revokedRightRejectsActiveForward(TestNamespace ns) {
        // given
        grant(ns.name(), Identity.BOB, FORWARDS);
        String portForwardGrant = grant(ns.name(), Identity.BOB, PORT_FORWARD);
        Kubelet.runningPod(admin, ns.name(), "db-0", Map.of(), "pg", 5432);
        assertThat(apply(Identity.BOB, ns, forwardYaml("db", "pod: db-0", Identity.BOB)).succeeded()).isTrue();
        awaitPhase(ns, "db", Phase.Active);

        // when: the right goes, and bob himself shortens the forward (any reconcile re-checks)
        admin.rbac().roleBindings().inNamespace(ns.name()).withName(portForwardGrant).delete();
        await().until(() -> !mayPortForward(Identity.BOB, ns.name(), "db-0"));
        assertThat(apply(Identity.BOB, ns, forwardYaml("db", "pod: db-0", Identity.BOB).replace("ttl: 30m", "ttl: 25m"))
                .succeeded()).isTrue();

        // then
        PortForward pf = awaitPhase(ns, "db", Phase.Rejected);
        assertThat(pf.getStatus().getMessage())
                .isEqualTo("bob may not forward to pod db-0 in namespace " + ns.name() + " (needs create on pods/portforward)");
        assertThat(operator.get().closedForwards()).contains(ns.name() + "/db:creator not authorized: " + pf.getStatus().getMessage());
        assertThat(pf.getStatus().getConditions()).anySatisfy(c -> {
            assertThat(c.getType()).isEqualTo("CreatorAuthorized");
            assertThat(c.getStatus()).isEqualTo("False");
            assertThat(c.getReason()).isEqualTo("CreatorNotAuthorized");
        });
    }

    @Test
    @DisplayName("every audit record, Event and JSON line, names the creator beside whoever acted")
    void creatorInEveryAuditRecord(TestNamespace ns) {
        // given
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        Logger auditLog = (Logger) LoggerFactory.getLogger("porthole.audit");
        lines.start();
        auditLog.addAppender(lines);
        grant(ns.name(), Identity.BOB, FORWARDS, PORT_FORWARD);
        Kubelet.runningPod(admin, ns.name(), "db-0", Map.of(), "pg", 5432);
        try {
            // when
            assertThat(apply(Identity.BOB, ns, forwardYaml("db", "pod: db-0", Identity.BOB)).succeeded()).isTrue();
            awaitPhase(ns, "db", Phase.Active);
            admin.resources(PortForward.class).inNamespace(ns.name()).withName("db").delete();

            // then
            await().untilAsserted(() -> assertThat(Forwards.eventReasons(admin, ns.name(), "db"))
                    .contains("Accepted", "AgentInjected", "Revoked"));
            assertThat(Forwards.events(admin, ns.name(), "db")).allSatisfy(e -> assertThat(e.getNote()).contains("creator=bob"));
            List<String> json = lines.list.stream().map(ILoggingEvent::getFormattedMessage)
                    .filter(l -> l.contains("\"forward\":\"" + ns.name() + "/db\"")).toList();
            assertThat(json).hasSizeGreaterThanOrEqualTo(3).allSatisfy(l -> assertThat(l).contains("\"creator\":\"bob\""));
        } finally {
            auditLog.detachAppender(lines);
        }
    }

    private static PolicyRule requesterRule() {
        try (KubernetesClient offline = new KubernetesClientBuilder().withConfig(Config.empty()).build()) {
            return OperatorIdentity.requesterRole(offline).getRules().get(0);
        }
    }

    /** A Role with {@code rules} bound to {@code who} in {@code ns}; returns the binding's name. */
    private String grant(String ns, Identity who, PolicyRule... rules) {
        String name = who.username() + "-" + Integer.toHexString(List.of(rules).hashCode());
        admin.resource(new RoleBuilder().withNewMetadata().withName(name).withNamespace(ns).endMetadata()
                .withRules(rules).build()).serverSideApply();
        admin.resource(new RoleBindingBuilder().withNewMetadata().withName(name).withNamespace(ns).endMetadata()
                .withNewRoleRef("rbac.authorization.k8s.io", "Role", name)
                .addNewSubject().withKind("User").withApiGroup("rbac.authorization.k8s.io").withName(who.username()).endSubject()
                .build()).serverSideApply();
        return name;
    }

    /** A forward manifest whose spec names {@code creator} (none when null), as a user would write it. */
    private static String forwardYaml(String name, String target, Identity creator) {
        return """
                apiVersion: porthole.dev/v1alpha1
                kind: PortForward
                metadata: { name: %s }
                spec:
                %s  target: { %s, port: 5432 }
                  audience: { users: [alice] }
                  ttl: 30m
                """.formatted(name, creator == null ? "" : "  " + Creators.yaml(creator) + "\n", target);
    }

    private TestCluster.KubectlResult apply(Identity as, TestNamespace ns, String yaml) {
        return apply(as, ns.name(), yaml);
    }

    private TestCluster.KubectlResult apply(Identity as, String ns, String yaml) {
        return cluster.apply(as, ns, yaml);
    }

    /** What the API server's authorizer answers now (RBAC changes reach it through its own informers). */
    private boolean mayPortForward(Identity who, String ns, String pod) {
        var review = new io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewBuilder().withNewSpec()
                .withUser(who.username()).withGroups(Creators.of(who).groupList()).withNewResourceAttributes()
                .withResource("pods").withSubresource("portforward").withVerb("create").withNamespace(ns).withName(pod)
                .endResourceAttributes().endSpec().build();
        return admin.authorization().v1().subjectAccessReview().create(review).getStatus().getAllowed();
    }

    private PortForward get(TestNamespace ns, String name) {
        return admin.resources(PortForward.class).inNamespace(ns.name()).withName(name).get();
    }

    private PortForward awaitPhase(TestNamespace ns, String name, Phase phase) {
        return Forwards.awaitPhase(admin, ns.name(), name, phase, Duration.ofSeconds(30));
    }
}
