package dev.porthole.protocol.pki;

import dev.porthole.protocol.ForwardRef;
import dev.porthole.pki.CertificationRequests;
import dev.porthole.pki.CertificateAuthority;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class CertificateAuthorityTest {

    private static final CertificateAuthority CA = CertificateAuthority.create("porthole-test-ca", Duration.ofDays(1));
    private static final String UID = "3c8e4f0a-5d2b-4a61-8e9f-1b7c2d3e4f50";

    @Test
    @DisplayName("a client certificate issued from a CSR carries the given identity, not the CSR's subject")
    void clientCertificateFromCsr() throws Exception {
        // given
        KeyPair keys = CertificateAuthority.generateKeyPair();
        String csrPem = CertificationRequests.write(CertificateAuthority.createCertificationRequest(keys, "mallory"));
        Instant notAfter = Instant.now().plus(Duration.ofMinutes(30)).truncatedTo(ChronoUnit.SECONDS);
        ClientIdentity identity = new ClientIdentity("alice@example.com", List.of("sre-oncall", "dba"),
                ForwardRef.parse("shop/orders-db"), UID, notAfter);
        // when
        X509Certificate certificate = CA.issueClientCertificate(csrPem, identity);
        // then
        certificate.verify(CA.certificate().getPublicKey());
        assertThat(certificate.getPublicKey()).isEqualTo(keys.getPublic());
        assertThat(ClientIdentity.fromCertificate(certificate)).isEqualTo(identity);
        assertThat(certificate.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.2");
    }

    @Test
    @DisplayName("a CSR whose signature does not match its key is refused")
    void forgedCsrRefused() throws Exception {
        // given
        KeyPair signer = CertificateAuthority.generateKeyPair();
        PKCS10CertificationRequest genuine = CertificateAuthority.createCertificationRequest(signer, "alice");
        byte[] der = genuine.getEncoded().clone();
        der[der.length - 5] ^= 0x01;
        // when / then
        assertThatThrownBy(() -> CA.issueClientCertificate(new PKCS10CertificationRequest(der),
                new ClientIdentity("alice", List.of(), ForwardRef.parse("shop/db"), UID, Instant.now().plusSeconds(60))))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    @DisplayName("the relay certificate carries DNS and IP SANs and chains to the CA")
    void serverCertificate() throws Exception {
        // given / when
        KeyMaterial relay = CA.issueServerCertificate("relay", List.of("relay.porthole.svc", "127.0.0.1"),
                Duration.ofDays(1));
        // then
        relay.certificate().verify(CA.certificate().getPublicKey());
        assertThat(relay.certificate().getSubjectAlternativeNames())
                .extracting(san -> (Object) san.get(1)).containsExactly("relay.porthole.svc", "127.0.0.1");
        assertThat(relay.chain()).hasSize(2);
    }

    @Test
    @DisplayName("key material and the CA survive a PEM round trip")
    void pemRoundTrip() {
        // given
        KeyMaterial material = CA.keyMaterial();
        // when
        CertificateAuthority reloaded = CertificateAuthority.fromPem(material.certificateChainPem(),
                material.privateKeyPem());
        X509Certificate issued = reloaded.issueClientCertificate(CertificateAuthority.generateKeyPair().getPublic(),
                new ClientIdentity("bob", List.of(), ForwardRef.parse("ns/name"), UID, Instant.now().plusSeconds(600)));
        // then
        assertThat(reloaded.certificate()).isEqualTo(CA.certificate());
        assertThat(issued.getIssuerX500Principal()).isEqualTo(CA.certificate().getSubjectX500Principal());
    }

    @Test
    @DisplayName("a server certificate has no client identity")
    void certificateWithoutForward() {
        // given
        KeyMaterial relay = CA.issueServerCertificate("relay", List.of("localhost"), Duration.ofDays(1));
        // when / then
        assertThatThrownBy(() -> ClientIdentity.fromCertificate(relay.certificate()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("exactly one porthole:// URI SAN");
    }

    @Test
    @DisplayName("an already expired identity still yields a certificate whose validity ends then")
    void expiredIdentity() {
        // given
        Instant past = Instant.now().minus(Duration.ofHours(1)).truncatedTo(ChronoUnit.SECONDS);
        // when
        X509Certificate certificate = CA.issueClientCertificate(CertificateAuthority.generateKeyPair().getPublic(),
                new ClientIdentity("alice", List.of(), ForwardRef.parse("shop/db"), UID, past));
        // then
        assertThat(certificate.getNotAfter().toInstant()).isEqualTo(past);
        assertThat(certificate.getNotBefore().toInstant()).isBefore(past);
    }
}
