package dev.porthole.protocol.pki;

import dev.porthole.pki.CertificateAuthority;
import java.math.BigInteger;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Client certificates signed by a real CA's key but with contents no Porthole code would write: an
 * arbitrary subject and arbitrary URI SANs. For proving what {@link ClientIdentity#fromCertificate}
 * refuses and what it never reads.
 */
final class HandMadeCertificates {

    private HandMadeCertificates() {
    }

    static X509Certificate signedBy(CertificateAuthority ca, String subject, List<String> uris) {
        try {
            Instant now = Instant.now();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
                    X500Name.getInstance(ca.certificate().getSubjectX500Principal().getEncoded()), BigInteger.TEN,
                    Date.from(now.minus(Duration.ofMinutes(1))), Date.from(now.plus(Duration.ofMinutes(10))),
                    new X500Name(subject), CertificateAuthority.generateKeyPair().getPublic());
            if (!uris.isEmpty()) {
                builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(uris.stream()
                        .map(uri -> new GeneralName(GeneralName.uniformResourceIdentifier, uri)).toArray(GeneralName[]::new)));
            }
            return new JcaX509CertificateConverter().getCertificate(builder.build(
                    new JcaContentSignerBuilder("SHA256withECDSA").build(ca.keyMaterial().privateKey())));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
