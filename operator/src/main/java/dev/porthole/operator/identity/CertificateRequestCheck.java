package dev.porthole.operator.identity;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x9.ECNamedCurveTable;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

/**
 * What a CertificateSigningRequest must ask for, whoever sent it, before its identity is considered:
 *
 * <ul>
 *   <li>Usages: {@code client auth} and nothing beyond {@code digital signature}. A Porthole client
 *       certificate is only ever a TLS client certificate; a request for {@code server auth},
 *       {@code key encipherment}, {@code cert sign} and the like asks for something this signer never
 *       grants, and approving it anyway would leave an approved CSR claiming usages the certificate does
 *       not have.</li>
 *   <li>Key: EC on P-256 (secp256r1) by named curve, what the CLI generates. One key type means the
 *       handshake every client makes is the tested one, on every TLS provider the relay may run (JDK or
 *       BoringSSL); it rules out short RSA keys, and curves or algorithms (Ed25519) some providers do not
 *       offer for client certificates.</li>
 * </ul>
 */
final class CertificateRequestCheck {
    static final String CLIENT_AUTH = "client auth";
    static final Set<String> ALLOWED_USAGES = Set.of(CLIENT_AUTH, "digital signature");
    private static final String KEY_NEEDED = "; Porthole client certificates need an EC P-256 (secp256r1) key";

    private CertificateRequestCheck() {
    }

    /** Why the requested usages are refused, or null when they are fine. */
    static String usageRefusal(List<String> usages) {
        List<String> requested = usages == null ? List.of() : usages;
        List<String> extra = new ArrayList<>();
        for (String usage : requested) {
            if (!ALLOWED_USAGES.contains(usage)) {
                extra.add(usage);
            }
        }
        if (!extra.isEmpty()) {
            return "the request asks for usages a Porthole client certificate never has: " + String.join(", ", extra)
                    + "; only 'client auth' and 'digital signature' may be requested";
        }
        if (!requested.contains(CLIENT_AUTH)) {
            return "the request must ask for usage 'client auth'";
        }
        return null;
    }

    /** Why the request's key is refused, or null when it is EC P-256. */
    static String keyRefusal(PKCS10CertificationRequest request) {
        AlgorithmIdentifier algorithm = request.getSubjectPublicKeyInfo().getAlgorithm();
        ASN1ObjectIdentifier oid = algorithm.getAlgorithm();
        if (oid.equals(PKCSObjectIdentifiers.rsaEncryption)) {
            return "the request's key is RSA" + KEY_NEEDED;
        }
        if (oid.equals(EdECObjectIdentifiers.id_Ed25519) || oid.equals(EdECObjectIdentifiers.id_Ed448)) {
            return "the request's key is " + (oid.equals(EdECObjectIdentifiers.id_Ed25519) ? "Ed25519" : "Ed448") + KEY_NEEDED;
        }
        if (!oid.equals(X9ObjectIdentifiers.id_ecPublicKey)) {
            return "the request's key has algorithm " + oid.getId() + KEY_NEEDED;
        }
        ASN1Encodable parameters = algorithm.getParameters();
        if (!(parameters instanceof ASN1ObjectIdentifier curve)) {
            return "the request's key is EC with explicit curve parameters" + KEY_NEEDED;
        }
        if (!curve.equals(SECObjectIdentifiers.secp256r1)) {
            String name = ECNamedCurveTable.getName(curve);
            return "the request's key is EC on curve " + (name == null ? curve.getId() : name) + KEY_NEEDED;
        }
        return null;
    }
}
