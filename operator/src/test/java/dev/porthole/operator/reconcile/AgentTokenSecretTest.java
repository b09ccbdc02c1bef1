package dev.porthole.operator.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.operator.support.Forwards;
import dev.porthole.operator.time.Expiry;
import dev.porthole.pki.CertificateAuthority;
import dev.porthole.protocol.ForwardRef;
import dev.porthole.protocol.pki.AgentIdentity;
import dev.porthole.protocol.pki.KeyMaterial;
import io.fabric8.kubernetes.api.model.Secret;
import java.nio.charset.StandardCharsets;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class AgentTokenSecretTest {
    private static final CertificateAuthority CA = CertificateAuthority.create("Porthole CA", Duration.ofDays(1));
    private static final String UID = "7f1a34e1-0c2d-4e5f-8a9b-0123456789ab";
    private static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
    private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

    @Test
    @DisplayName("the Secret holds the agent certificate for the forward's name and uid until its expiry, signed by the CA, with its key")
    void holdsAgentCertificate() throws Exception {
        // given: a notAfter earlier than creation + ttl, so the expiry is not simply the ttl's
        Instant created = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        PortForward pf = forward(created, created.plus(Duration.ofMinutes(10)));

        // when
        Map<String, String> data = new AgentTokenSecret(CA).desired(pf, null).getStringData();

        // then
        assertThat(data).containsKeys(AgentTokenSecret.TOKEN_KEY, AgentTokenSecret.CERT_KEY, AgentTokenSecret.KEY_KEY);
        KeyMaterial agent = KeyMaterial.fromPem(data.get(AgentTokenSecret.CERT_KEY), data.get(AgentTokenSecret.KEY_KEY));
        X509Certificate leaf = agent.certificate();
        assertThat(Expiry.of(pf)).isEqualTo(created.plus(Duration.ofMinutes(10)));
        assertThat(AgentIdentity.fromCertificate(leaf))
                .isEqualTo(new AgentIdentity(new ForwardRef("shop", "orders-db-debug"), UID, Expiry.of(pf)));
        assertThatCode(() -> leaf.verify(CA.certificate().getPublicKey())).doesNotThrowAnyException();
        assertThat(agent.chain()).hasSize(2).last().isEqualTo(CA.certificate());
        assertThat(leaf.getExtendedKeyUsage()).contains(SERVER_AUTH).doesNotContain(CLIENT_AUTH);
        assertThat(leaf.getBasicConstraints()).isEqualTo(-1);
        assertThat(signsFor(agent, leaf)).as("tls.key is the key of tls.crt").isTrue();
    }

    @Test
    @DisplayName("each forward's Secret gets its own agent key")
    void freshKeyEachTime() {
        // given
        Instant created = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        AgentTokenSecret secret = new AgentTokenSecret(CA);

        // when
        Secret first = secret.desired(forward(created, null), null);
        Secret second = secret.desired(forward(created, null), null);

        // then
        assertThat(first.getStringData().get(AgentTokenSecret.KEY_KEY))
                .isNotEqualTo(second.getStringData().get(AgentTokenSecret.KEY_KEY));
        assertThat(AgentIdentity.fromCertificate(KeyMaterial.fromPem(first.getStringData().get(AgentTokenSecret.CERT_KEY),
                first.getStringData().get(AgentTokenSecret.KEY_KEY)).certificate()).notAfter())
                .isEqualTo(created.plus(Duration.ofMinutes(30)));
    }

    /** Whether the private key of {@code key} signs what {@code certificate}'s public key verifies. */
    private static boolean signsFor(KeyMaterial key, X509Certificate certificate) throws Exception {
        byte[] probe = "porthole".getBytes(StandardCharsets.US_ASCII);
        Signature signer = Signature.getInstance("SHA256withECDSA");
        signer.initSign(key.privateKey());
        signer.update(probe);
        Signature verifier = Signature.getInstance("SHA256withECDSA");
        verifier.initVerify(certificate.getPublicKey());
        verifier.update(probe);
        return verifier.verify(signer.sign());
    }

    private static PortForward forward(Instant created, Instant notAfter) {
        PortForward pf = Forwards.toPod("shop", "orders-db-debug", "orders-db-0", 5432, "30m");
        pf.getMetadata().setUid(UID);
        pf.getMetadata().setCreationTimestamp(created.toString());
        if (notAfter != null) {
            pf.getSpec().setNotAfter(notAfter.toString());
        }
        return pf;
    }
}
