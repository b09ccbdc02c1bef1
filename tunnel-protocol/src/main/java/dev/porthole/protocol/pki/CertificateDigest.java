package dev.porthole.protocol.pki;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;

/**
 * The SHA-256 of a certificate's DER encoding: how the relay tells an agent which client certificate it authorised
 * for a session, so that the agent accepts that one and no other certificate of the same forward.
 */
public final class CertificateDigest {
    private CertificateDigest() {
    }

    public static byte[] sha256(X509Certificate certificate) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded());
        } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
            throw new IllegalStateException("cannot digest certificate: " + e.getMessage(), e);
        }
    }
}
