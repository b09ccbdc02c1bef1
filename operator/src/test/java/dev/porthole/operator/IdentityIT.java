package dev.porthole.operator;

import dev.porthole.pki.CertificationRequests;
import static dev.porthole.operator.support.Forwards.eventReasons;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.porthole.api.v1alpha1.Audience;
import dev.porthole.api.v1alpha1.Phase;
import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.api.v1alpha1.PortForwardPolicy;
import dev.porthole.api.v1alpha1.ServiceAccountRef;
import dev.porthole.cli.CertificateSource;
import dev.porthole.cli.ForwardRelayInfo;
import dev.porthole.cli.Forwarder;
import dev.porthole.cli.ForwarderConfig;
import dev.porthole.cli.ForwarderException;
import dev.porthole.cli.KubernetesCsrCertificateSource;
import com.fasterxml.jackson.databind.JsonNode;
import dev.porthole.operator.support.AuditLog;
import dev.porthole.operator.support.EchoServer;
import dev.porthole.operator.support.Forwards;
import dev.porthole.operator.support.Policies;
import dev.porthole.operator.support.PodAgent;
import dev.porthole.operator.support.RunningOperator;
import dev.porthole.protocol.EndReason;
import dev.porthole.pki.CertificateAuthority;
import dev.porthole.protocol.ForwardRef;
import dev.porthole.protocol.pki.ClientIdentity;
import dev.porthole.protocol.pki.KeyMaterial;
import dev.porthole.protocol.pki.Pem;
import dev.porthole.sidecar.Agent;
import dev.porthole.testcluster.Identity;
import dev.porthole.testcluster.Kubelet;
import dev.porthole.testcluster.LocalCluster;
import dev.porthole.testcluster.TestCluster;
import dev.porthole.testcluster.TestNamespace;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequest;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestBuilder;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestConditionBuilder;
import io.fabric8.kubernetes.api.model.events.v1.Event;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The identity path on the real control plane: certificates through the CSR API for the identity the
 * API server stamps, and the relay's checks on every session. Every user is a real authenticated
 * identity of the local cluster; no test writes an identity into a CSR.
 */
@LocalCluster
class IdentityIT {
    private static RunningOperator operator;
    private static boolean usersBound;
    private TestCluster cluster;
    private KubernetesClient admin;
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @BeforeEach
    void start(TestCluster cluster) {
        this.cluster = cluster;
        this.admin = cluster.admin();
        if (operator == null) {
            operator = RunningOperator.start(cluster);
        }
        if (!usersBound) {
            for (Identity id : List.of(Identity.ALICE, Identity.BOB, Identity.MALLORY, Identity.OBRIEN, Identity.JOSE,
                    Identity.HEX_ALICE, Identity.CONTROL_EVE)) {
                OperatorIdentity.bindConnect(admin, id.username()); // connecting only: the forwards are the admin's
            }
            usersBound = true;
        }
    }

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : toClose) {
            c.close();
        }
    }

    @AfterAll
    static void stopOperator() {
        if (operator != null) {
            operator.close();
        }
    }

    @Test
    @DisplayName("an audience user by name gets a certificate through the CSR API and moves bytes; all of it is audited")
    void audienceUserMovesBytes(TestNamespace ns) throws Exception {
        // given
        activeForward(ns, "db", Audience.users("alice"), "10m", null);

        // when
        Forwarder forwarder = connect(cluster.clientFor(Identity.ALICE), ns.name() + "/db");
        String echoed = roundTrip(forwarder, "hello through porthole");
        forwarder.close();

        // then
        assertThat(echoed).isEqualTo("hello through porthole");
        await().untilAsserted(() -> assertThat(eventReasons(admin, ns.name(), "db"))
                .contains("AgentConnected", "CredentialIssued", "SessionOpened", "SessionClosed"));
        Event issued = event(ns, "db", "CredentialIssued");
        assertThat(issued.getNote()).contains("user=alice").contains("groups=[sre-oncall, system:authenticated]");
        Event opened = event(ns, "db", "SessionOpened");
        assertThat(opened.getNote()).contains("user=alice").contains("client=127.0.0.1:").contains("resolvedTarget=pod/db-0:");
        Event closed = event(ns, "db", "SessionClosed");
        assertThat(closed.getNote()).contains("bytesIn=22").contains("bytesOut=22").contains("endReason=CLIENT_CLOSED")
                .contains("durationMs=");
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
            PortForward pf = get(ns, "db");
            assertThat(pf.getStatus().getSessions().getTotal()).isEqualTo(1);
            assertThat(pf.getStatus().getSessions().getBytesIn()).isEqualTo(22);
            assertThat(pf.getStatus().getConditions()).anySatisfy(c -> {
                assertThat(c.getType()).isEqualTo("AgentConnected");
                assertThat(c.getStatus()).isEqualTo("True");
            });
        });
    }

    @Test
    @DisplayName("membership of an audience group is enough, as the API server stamps the groups")
    void audienceGroupMember(TestNamespace ns) throws Exception {
        // given
        Audience audience = new Audience();
        audience.setGroups(List.of("sre-oncall"));
        activeForward(ns, "db", audience, "10m", null);

        // when
        Forwarder forwarder = connect(cluster.clientFor(Identity.ALICE), ns.name() + "/db");

        // then
        assertThat(roundTrip(forwarder, "group")).isEqualTo("group");
    }

    @Test
    @DisplayName("a service account in the audience gets a certificate with its TokenRequest token")
    void audienceServiceAccount(TestNamespace ns) throws Exception {
        // given
        Audience audience = new Audience();
        audience.setServiceAccounts(List.of(new ServiceAccountRef(ns.name(), "migrator")));
        activeForward(ns, "db", audience, "10m", null);
        String token = cluster.serviceAccountToken(ns.name(), "migrator", Duration.ofMinutes(10));
        admin.resource(new ClusterRoleBindingBuilder().withNewMetadata().withName("porthole-connect-sa-" + ns.name()).endMetadata()
                .withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", OperatorIdentity.connectRole(admin).getMetadata().getName())
                .addNewSubject().withKind("ServiceAccount").withName("migrator").withNamespace(ns.name()).endSubject()
                .build()).forceConflicts().serverSideApply();

        // when
        Forwarder forwarder = connect(cluster.clientWithToken(token), ns.name() + "/db");

        // then
        assertThat(roundTrip(forwarder, "robot")).isEqualTo("robot");
        assertThat(event(ns, "db", "CredentialIssued").getNote()).contains("user=system:serviceaccount:" + ns.name() + ":migrator");
    }

    @Test
    @DisplayName("a name and groups full of DN and CSV punctuation and edge spaces reach the relay and the audit exactly")
    void punctuatedIdentityArrivesExactly(TestNamespace ns) throws Exception {
        identityArrivesExactly(ns, Identity.OBRIEN);
    }

    @Test
    @DisplayName("a non-ASCII name and groups (accents, CJK, emoji) reach the relay and the audit byte for byte")
    void nonAsciiIdentityArrivesExactly(TestNamespace ns) throws Exception {
        identityArrivesExactly(ns, Identity.JOSE);
    }

    @Test
    @DisplayName("a user named like hex-encoded 'alice' is himself at the relay, and is refused where only alice may connect")
    void hexLookalikeIsNotAlice(TestNamespace ns) throws Exception {
        // given: a certificate he got while in the audience
        String forward = ns.name() + "/db";
        String lookalike = Identity.HEX_ALICE.username();
        activeForward(ns, "db", Audience.users("alice", lookalike), "10m", null);
        KeyMaterial his = certificateFor(Identity.HEX_ALICE, forward);
        assertThat(ClientIdentity.fromCertificate(his.certificate()).username()).isEqualTo(lookalike);
        assertThat(roundTrip(connectWith(forward, f -> his), "as himself")).isEqualTo("as himself");

        // when: only alice remains
        admin.resources(PortForward.class).inNamespace(ns.name()).withName("db").edit(pf -> {
            pf.getSpec().getAudience().setUsers(List.of("alice"));
            return pf;
        });

        // then
        assertThatThrownBy(() -> connectWith(forward, f -> his))
                .isInstanceOf(ForwarderException.class)
                .hasMessageContaining(lookalike + " is not in the audience of forward " + forward);
    }

    @Test
    @DisplayName("a user name with a control character is denied at the CSR, though in the audience, and audited escaped")
    void controlCharacterNameDenied(TestNamespace ns) throws Exception {
        // given
        activeForward(ns, "db", Audience.users(Identity.CONTROL_EVE.username()), "10m", null);

        // when / then
        assertThatThrownBy(() -> certificateFor(Identity.CONTROL_EVE, ns.name() + "/db"))
                .isInstanceOf(ForwarderException.class)
                .hasMessage("client certificate refused: the user name contains the control character U+0009 at index 3,"
                        + " so no certificate could carry it exactly");
        assertThat(csrFor(ns.name() + "/db").getStatus().getConditions()).singleElement()
                .satisfies(c -> assertThat(c.getReason()).isEqualTo("UnsupportedIdentity"));
        await().untilAsserted(() -> assertThat(event(ns, "db", "CredentialDenied").getNote())
                .contains("user=eve\\u0009admin").doesNotContain("\t"));
    }

    @Test
    @DisplayName("a request for server auth, or for key encipherment and cert sign, is denied with the reason, though the user is in the audience")
    void otherUsagesDenied(TestNamespace ns) throws Exception {
        // given
        activeForward(ns, "db", Audience.users("alice"), "10m", null);
        PKCS10CertificationRequest request = CertificateAuthority.createCertificationRequest(
                CertificateAuthority.generateKeyPair(), "alice");

        // when
        CertificateSigningRequest serverAuth = requestAs(Identity.ALICE, ns.name() + "/db", request, "client auth", "server auth");
        CertificateSigningRequest signing = requestAs(Identity.ALICE, ns.name() + "/db", request,
                "client auth", "key encipherment", "cert sign");

        // then
        assertDenied(serverAuth, "the request asks for usages a Porthole client certificate never has: server auth;"
                + " only 'client auth' and 'digital signature' may be requested");
        assertDenied(signing, "the request asks for usages a Porthole client certificate never has: key encipherment,"
                + " cert sign; only 'client auth' and 'digital signature' may be requested");
    }

    @Test
    @DisplayName("a request with an RSA-2048 key is denied with the reason, though the user is in the audience")
    void rsaKeyDenied(TestNamespace ns) throws Exception {
        // given
        activeForward(ns, "db", Audience.users("alice"), "10m", null);
        KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
        rsa.initialize(2048);
        KeyPair keys = rsa.generateKeyPair();
        PKCS10CertificationRequest request = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=alice"), keys.getPublic())
                .build(new JcaContentSignerBuilder("SHA256withRSA").build(keys.getPrivate()));

        // when
        CertificateSigningRequest answered = requestAs(Identity.ALICE, ns.name() + "/db", request, "client auth");

        // then
        assertDenied(answered, "the request's key is RSA; Porthole client certificates need an EC P-256 (secp256r1) key");
    }

    @Test
    @DisplayName("a user outside the audience is denied at the CSR, with the reason shown and audited")
    void outsiderDeniedAtCsr(TestNamespace ns) throws Exception {
        // given
        activeForward(ns, "db", Audience.users("alice"), "10m", null);

        // when / then
        assertThatThrownBy(() -> connect(cluster.clientFor(Identity.MALLORY), ns.name() + "/db"))
                .isInstanceOf(ForwarderException.class)
                .hasMessage("client certificate refused: mallory is not in the audience of forward " + ns.name() + "/db");
        await().untilAsserted(() -> assertThat(event(ns, "db", "CredentialDenied").getNote()).contains("user=mallory"));
    }

    @Test
    @DisplayName("the relay refuses a certificate from a CA that is not Porthole's")
    void forgedCertificateRefused(TestNamespace ns) throws Exception {
        // given: a lookalike certificate, right names and forward, wrong issuer
        activeForward(ns, "db", Audience.users("alice"), "10m", null);
        CertificateAuthority forger = CertificateAuthority.create("Porthole CA", Duration.ofDays(1));
        KeyPair keys = CertificateAuthority.generateKeyPair();
        KeyMaterial forged = new KeyMaterial(keys.getPrivate(), List.of(forger.issueClientCertificate(keys.getPublic(),
                new ClientIdentity("alice", List.of("sre-oncall"), new ForwardRef(ns.name(), "db"), uid(ns, "db"), Instant.now().plusSeconds(600)))));

        // when / then
        assertThatThrownBy(() -> connectWith(ns.name() + "/db", forward -> forged)).isInstanceOf(ForwarderException.class);
        assertThat(operator.operator().relay().server().stats().tlsFailures()).isPositive();
    }

    @Test
    @DisplayName("a certificate for forward A is refused on forward B")
    void certificateForAnotherForwardRefused(TestNamespace ns) throws Exception {
        // given
        activeForward(ns, "a", Audience.users("alice"), "10m", null);
        activeForward(ns, "b", Audience.users("alice"), "10m", "db-1");
        KeyMaterial forA = new KubernetesCsrCertificateSource(cluster.clientFor(Identity.ALICE), Duration.ofMinutes(10),
                Duration.ofSeconds(30), line -> { }).clientKey(new ForwardRef(ns.name(), "a"));

        // when / then
        assertThatThrownBy(() -> connectWith(ns.name() + "/b", forward -> forA))
                .isInstanceOf(ForwarderException.class)
                .hasMessageContaining(ns.name() + "/a");
    }

    @Test
    @DisplayName("a certificate dies with its forward: re-created under the same name, the forward refuses it and takes a fresh one")
    void certificateBoundToForwardUid(TestNamespace ns) throws Exception {
        // given: a certificate that worked on the first forward
        String forward = ns.name() + "/db";
        activeForward(ns, "db", Audience.users("alice"), "10m", null);
        String firstUid = uid(ns, "db");
        KeyMaterial first = certificateFor(Identity.ALICE, forward);
        assertThat(roundTrip(connectWith(forward, f -> first), "first")).isEqualTo("first");

        // when: deleted, and created again with the same name and audience, Active again
        admin.resources(PortForward.class).inNamespace(ns.name()).withName("db").delete();
        await().atMost(Duration.ofSeconds(20)).until(() -> get(ns, "db") == null);
        activeForward(ns, "db", Audience.users("alice"), "10m", "db-1");

        // then
        assertThat(uid(ns, "db")).isNotEqualTo(firstUid);
        assertThat(roundTrip(connect(cluster.clientFor(Identity.ALICE), forward), "fresh")).isEqualTo("fresh");
        assertThatThrownBy(() -> connectWith(forward, f -> first))
                .isInstanceOf(ForwarderException.class)
                .hasMessageContaining("certificate was issued for an earlier forward named " + forward + " (uid " + firstUid
                        + "); request a new one");
    }

    @Test
    @DisplayName("an expired certificate is refused with the time it expired")
    void expiredCertificateRefused(TestNamespace ns) throws Exception {
        // given: signed by the real Porthole CA, but already expired
        activeForward(ns, "db", Audience.users("alice"), "10m", null);
        KeyPair keys = CertificateAuthority.generateKeyPair();
        KeyMaterial expired = new KeyMaterial(keys.getPrivate(), List.of(operator.operator().certificateAuthority()
                .issueClientCertificate(keys.getPublic(), new ClientIdentity("alice", List.of(), new ForwardRef(ns.name(), "db"),
                        uid(ns, "db"), Instant.now().minusSeconds(60)))));

        // when / then
        assertThatThrownBy(() -> connectWith(ns.name() + "/db", forward -> expired))
                .isInstanceOf(ForwarderException.class)
                .hasMessageContaining("expired");
    }

    @Test
    @DisplayName("a user narrowed out of the audience cannot open new sessions with the certificate she holds")
    void removedFromAudience(TestNamespace ns) throws Exception {
        // given
        Audience both = new Audience();
        both.setUsers(List.of("alice", "bob"));
        activeForward(ns, "db", both, "10m", null);
        KeyMaterial alices = new KubernetesCsrCertificateSource(cluster.clientFor(Identity.ALICE), Duration.ofMinutes(10),
                Duration.ofSeconds(30), line -> { }).clientKey(new ForwardRef(ns.name(), "db"));

        // when
        admin.resources(PortForward.class).inNamespace(ns.name()).withName("db")
                .edit(pf -> {
                    pf.getSpec().getAudience().setUsers(List.of("bob"));
                    return pf;
                });

        // then
        assertThatThrownBy(() -> connectWith(ns.name() + "/db", forward -> alices))
                .isInstanceOf(ForwarderException.class)
                .hasMessageContaining("alice is not in the audience of forward " + ns.name() + "/db");
        assertThat(roundTrip(connect(cluster.clientFor(Identity.BOB), ns.name() + "/db"), "still bob")).isEqualTo("still bob");
    }

    @Test
    @DisplayName("deleting the forward cuts a live session within one second, and the records say revoked")
    void revocationCutsLiveSession(TestNamespace ns) throws Exception {
        // given
        activeForward(ns, "db", Audience.users("alice"), "10m", null);
        Forwarder forwarder = connect(cluster.clientFor(Identity.ALICE), ns.name() + "/db");
        Socket live = openSession(forwarder);
        assertThat(exchange(live, "before")).isEqualTo("before");

        // when
        Instant deleted = Instant.now();
        admin.resources(PortForward.class).inNamespace(ns.name()).withName("db").delete();

        // then
        assertThat(live.getInputStream().read()).isEqualTo(-1);
        assertThat(Duration.between(deleted, Instant.now())).isLessThan(Duration.ofSeconds(1));
        assertThat(forwarder.termination().get().reason()).isEqualTo(EndReason.REVOKED);
        await().untilAsserted(() -> assertThat(event(ns, "db", "SessionClosed").getNote()).contains("endReason=REVOKED"));
        assertThat(eventReasons(admin, ns.name(), "db")).contains("Revoked");
    }

    @Test
    @DisplayName("expiry cuts a live session within one second of expiresAt")
    void expiryCutsLiveSession(TestNamespace ns) throws Exception {
        // given
        activeForward(ns, "db", Audience.users("alice"), "8s", null);
        Instant expiresAt = Instant.parse(get(ns, "db").getStatus().getExpiresAt());
        Forwarder forwarder = connect(cluster.clientFor(Identity.ALICE), ns.name() + "/db");
        Socket live = openSession(forwarder);
        assertThat(exchange(live, "before")).isEqualTo("before");
        live.setSoTimeout(20_000);

        // when
        int end = live.getInputStream().read();

        // then
        assertThat(end).isEqualTo(-1);
        assertThat(Duration.between(expiresAt, Instant.now()).abs()).isLessThan(Duration.ofSeconds(1));
        assertThat(forwarder.termination().get().reason()).isEqualTo(EndReason.EXPIRED);
    }

    @Test
    @DisplayName("maxSessions is enforced: the session over the limit is refused and audited with the reason")
    void maxSessionsEnforced(TestNamespace ns) throws Exception {
        // given
        activeForward(ns, "db", Audience.users("alice"), "10m", null, 1);
        // when / then
        assertSecondSessionRefused(ns);
    }

    @Test
    @DisplayName("a policy's maxSessions limits a forward that sets none: the session over it is refused with the reason")
    void policySessionLimitAppliesWithoutSpecMaxSessions(TestNamespace ns) throws Exception {
        // given: a policy of one session; the forward asks for no limit of its own
        PortForwardPolicy one = Policies.governing("sessions-" + ns.name(), ns.name(), s -> s.setMaxSessions(1));
        admin.resource(one).create();
        try {
            activeForward(ns, "db", Audience.users("alice"), "10m", null, null);

            // when / then
            assertSecondSessionRefused(ns);
        } finally {
            admin.resource(one).delete();
        }
    }

    @Test
    @DisplayName("a Public forward admits clients only from its sourceRanges")
    void publicForwardChecksSourceRanges(TestNamespace ns) throws Exception {
        // given: a policy that allows Public here, and a forward open to 203.0.113.0/24 only
        var policy = new dev.porthole.api.v1alpha1.PortForwardPolicy();
        policy.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName("public-" + ns.name()).build());
        var spec = new dev.porthole.api.v1alpha1.PortForwardPolicySpec();
        spec.setNamespaces(List.of(ns.name()));
        spec.setAllowedBindScopes(List.of(dev.porthole.api.v1alpha1.BindScope.Loopback, dev.porthole.api.v1alpha1.BindScope.Public));
        policy.setSpec(spec);
        admin.resource(policy).create();
        try {
            activeForward(ns, "open", Audience.users("alice"), "10m", null, null, pf -> {
                pf.getSpec().setBindScope(dev.porthole.api.v1alpha1.BindScope.Public);
                pf.getSpec().setSourceRanges(List.of("203.0.113.0/24"));
            });

            // when / then: this machine's 127.0.0.1 is not in the range
            assertThatThrownBy(() -> connect(cluster.clientFor(Identity.ALICE), ns.name() + "/open"))
                    .isInstanceOf(ForwarderException.class)
                    .hasMessageContaining("client address 127.0.0.1 is outside the sourceRanges of forward " + ns.name() + "/open");
        } finally {
            admin.resource(policy).delete();
        }
    }

    @Test
    @DisplayName("a user cannot approve her own certificate request; only the operator's signer rights can")
    void userCannotApproveOwnRequest(TestNamespace ns) {
        // given
        KubernetesClient alice = cluster.clientFor(Identity.ALICE);
        KeyPair keys = CertificateAuthority.generateKeyPair();
        String pem = CertificationRequests.write(CertificateAuthority.createCertificationRequest(keys, "alice"));
        CertificateSigningRequest csr = alice.certificates().v1().certificateSigningRequests().resource(new CertificateSigningRequestBuilder()
                .withNewMetadata().withGenerateName("self-approve-").addToAnnotations("porthole.dev/forward", ns.name() + "/nothing").endMetadata()
                .withNewSpec().withSignerName("porthole.dev/client").withUsages("client auth").withExpirationSeconds(600)
                .withRequest(Base64.getEncoder().encodeToString(pem.getBytes(StandardCharsets.UTF_8))).endSpec().build()).create();

        // when / then
        assertThatThrownBy(() -> alice.certificates().v1().certificateSigningRequests().withName(csr.getMetadata().getName())
                .approve(new CertificateSigningRequestConditionBuilder().withType("Approved").withStatus("True")
                        .withReason("SelfApproved").withMessage("trust me").build()))
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403));
        // and the operator denies it, since the forward does not exist
        CertificateSigningRequest answered = await().until(() -> admin.certificates().v1().certificateSigningRequests()
                .withName(csr.getMetadata().getName()).get(), c -> c.getStatus() != null && c.getStatus().getConditions() != null
                && !c.getStatus().getConditions().isEmpty());
        assertThat(answered.getStatus().getConditions()).singleElement().satisfies(c -> {
            assertThat(c.getType()).isEqualTo("Denied");
            assertThat(c.getMessage()).isEqualTo("forward " + ns.name() + "/nothing does not exist");
        });
    }

    // --- helpers

    /**
     * {@code id}, alone in a forward's audience, connects through the real CSR API and moves bytes; the
     * API server's stamp, the certificate, and the relay's audit records all name exactly the same user
     * and groups.
     */
    private void identityArrivesExactly(TestNamespace ns, Identity id) throws Exception {
        // given
        String forward = ns.name() + "/db";
        activeForward(ns, "db", Audience.users(id.username()), "10m", null);
        try (AuditLog auditLog = new AuditLog()) {
            // when
            Forwarder forwarder = connect(cluster.clientFor(id), forward);
            String echoed = roundTrip(forwarder, "exactly");

            // then
            CertificateSigningRequest csr = csrFor(forward);
            List<String> stamped = csr.getSpec().getGroups();
            assertThat(echoed).isEqualTo("exactly");
            assertThat(csr.getSpec().getUsername()).isEqualTo(id.username());
            assertThat(stamped).containsAll(id.groups()).contains("system:authenticated");
            ClientIdentity inCertificate = ClientIdentity.fromCertificate(issuedCertificate(csr));
            assertThat(inCertificate.username()).isEqualTo(id.username());
            assertThat(inCertificate.groups()).isEqualTo(stamped);
            JsonNode opened = await().until(() -> auditLog.records(forward, "SessionOpened"), r -> !r.isEmpty()).get(0);
            assertThat(opened.get("user").asText()).isEqualTo(id.username());
            List<String> audited = new java.util.ArrayList<>();
            opened.get("groups").forEach(g -> audited.add(g.asText()));
            assertThat(audited).as("groups as a JSON array, each name exact").isEqualTo(stamped);
            JsonNode issued = await().until(() -> auditLog.records(forward, "CredentialIssued"), r -> !r.isEmpty()).get(0);
            assertThat(issued.get("user").asText()).isEqualTo(id.username());
        }
    }

    /** A certificate for {@code forward} through the real CSR API, as {@code id}. */
    private KeyMaterial certificateFor(Identity id, String forward) {
        return new KubernetesCsrCertificateSource(cluster.clientFor(id), Duration.ofMinutes(10), Duration.ofSeconds(30), line -> { })
                .clientKey(ForwardRef.parse(forward));
    }

    /** Creates a CSR for {@code forward} as {@code id} with exactly these usages, and returns it once answered. */
    private CertificateSigningRequest requestAs(Identity id, String forward, PKCS10CertificationRequest request,
                                                String... usages) {
        String pem = CertificationRequests.write(request);
        CertificateSigningRequest csr = cluster.clientFor(id).certificates().v1().certificateSigningRequests()
                .resource(new CertificateSigningRequestBuilder()
                        .withNewMetadata().withGenerateName("shape-").addToAnnotations("porthole.dev/forward", forward).endMetadata()
                        .withNewSpec().withSignerName("porthole.dev/client").withUsages(usages).withExpirationSeconds(600)
                        .withRequest(Base64.getEncoder().encodeToString(pem.getBytes(StandardCharsets.UTF_8))).endSpec().build())
                .create();
        return await().until(() -> admin.certificates().v1().certificateSigningRequests().withName(csr.getMetadata().getName()).get(),
                c -> c.getStatus() != null && c.getStatus().getConditions() != null && !c.getStatus().getConditions().isEmpty());
    }

    private static void assertDenied(CertificateSigningRequest answered, String message) {
        assertThat(answered.getStatus().getCertificate()).isNullOrEmpty();
        assertThat(answered.getStatus().getConditions()).singleElement().satisfies(c -> {
            assertThat(c.getType()).isEqualTo("Denied");
            assertThat(c.getReason()).isEqualTo("InvalidRequest");
            assertThat(c.getMessage()).isEqualTo(message);
        });
    }

    /** The one CSR made for {@code forward} (each test has its own namespace, so its own forwards). */
    private CertificateSigningRequest csrFor(String forward) {
        List<CertificateSigningRequest> found = admin.certificates().v1().certificateSigningRequests().list().getItems().stream()
                .filter(c -> c.getMetadata().getAnnotations() != null
                        && forward.equals(c.getMetadata().getAnnotations().get("porthole.dev/forward")))
                .toList();
        assertThat(found).hasSize(1);
        return found.get(0);
    }

    private static X509Certificate issuedCertificate(CertificateSigningRequest csr) {
        return Pem.readCertificate(new String(Base64.getDecoder().decode(csr.getStatus().getCertificate()), StandardCharsets.UTF_8));
    }

    private void activeForward(TestNamespace ns, String name, Audience audience, String ttl, String podName) throws IOException {
        activeForward(ns, name, audience, ttl, podName, null);
    }

    /** With a limit of one session on forward {@code db}: alice's second session is refused and audited, her first goes on. */
    private void assertSecondSessionRefused(TestNamespace ns) throws Exception {
        Forwarder forwarder = connect(cluster.clientFor(Identity.ALICE), ns.name() + "/db");
        Socket first = openSession(forwarder);
        assertThat(exchange(first, "one")).isEqualTo("one");
        Socket second = openSession(forwarder);
        second.setSoTimeout(5_000);
        assertThat(second.getInputStream().read()).isEqualTo(-1);
        await().untilAsserted(() -> assertThat(event(ns, "db", "SessionDenied").getNote())
                .contains("already has its maximum of 1 sessions").contains("user=alice"));
        assertThat(exchange(first, "still one")).isEqualTo("still one");
    }

    private void activeForward(TestNamespace ns, String name, Audience audience, String ttl, String podName, Integer maxSessions)
            throws IOException {
        activeForward(ns, name, audience, ttl, podName, maxSessions, pf -> { });
    }

    private void activeForward(TestNamespace ns, String name, Audience audience, String ttl, String podName, Integer maxSessions,
                               java.util.function.Consumer<PortForward> customize) throws IOException {
        EchoServer echo = new EchoServer();
        toClose.add(echo);
        String pod = podName == null ? "db-0" : podName;
        Kubelet.runningPod(admin, ns.name(), pod, Map.of(), "echo", echo.port());
        PortForward pf = Forwards.toPod(ns.name(), name, pod, echo.port(), ttl);
        pf.getSpec().setAudience(audience);
        pf.getSpec().setMaxSessions(maxSessions);
        customize.accept(pf);
        admin.resource(pf).create();
        await().atMost(Duration.ofSeconds(20)).until(() -> get(ns, name), f -> f.getStatus() != null && f.getStatus().getPhase() == Phase.Active);
        Agent agent = PodAgent.start(admin, ns.name(), pod);
        toClose.add(agent);
        await().atMost(Duration.ofSeconds(15)).until(() -> operator.operator().relay().server().isAgentConnected(new ForwardRef(ns.name(), name)));
    }

    private Forwarder connect(KubernetesClient user, String forward) {
        ForwardRelayInfo info = ForwardRelayInfo.of(user, ForwardRef.parse(forward));
        return start(ForwarderConfig.of(ForwardRef.parse(forward), InetAddress.getLoopbackAddress(), 0, info.relayHost(), info.relayPort(), info.ca(),
                new KubernetesCsrCertificateSource(user, info.remaining(), Duration.ofSeconds(30), line -> { })));
    }

    private Forwarder connectWith(String forward, CertificateSource certificates) {
        ForwardRelayInfo info = ForwardRelayInfo.of(admin, ForwardRef.parse(forward));
        return start(ForwarderConfig.of(ForwardRef.parse(forward), InetAddress.getLoopbackAddress(), 0, info.relayHost(), info.relayPort(),
                info.ca(), certificates));
    }

    private Forwarder start(ForwarderConfig config) {
        List<String> lines = new CopyOnWriteArrayList<>();
        Forwarder f = new Forwarder(config, lines::add).start();
        toClose.add(f);
        return f;
    }

    private Socket openSession(Forwarder forwarder) throws IOException {
        Socket s = new Socket(forwarder.localAddress().getAddress(), forwarder.localAddress().getPort());
        s.setSoTimeout(10_000);
        toClose.add(s);
        return s;
    }

    private String roundTrip(Forwarder forwarder, String text) throws IOException {
        try (Socket s = openSession(forwarder)) {
            return exchange(s, text);
        }
    }

    private static String exchange(Socket s, String text) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
        InputStream in = s.getInputStream();
        byte[] buf = in.readNBytes(text.length());
        return new String(buf, StandardCharsets.UTF_8);
    }

    private PortForward get(TestNamespace ns, String name) {
        return admin.resources(PortForward.class).inNamespace(ns.name()).withName(name).get();
    }

    private String uid(TestNamespace ns, String name) {
        return get(ns, name).getMetadata().getUid();
    }

    private Event event(TestNamespace ns, String forward, String reason) {
        return Forwards.events(admin, ns.name(), forward).stream().filter(e -> reason.equals(e.getReason())).findFirst()
                .orElseThrow(() -> new AssertionError("no " + reason + " Event for " + forward + ": "
                        + eventReasons(admin, ns.name(), forward)));
    }
}
