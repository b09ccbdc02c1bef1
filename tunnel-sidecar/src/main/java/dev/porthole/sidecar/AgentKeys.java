package dev.porthole.sidecar;

import dev.porthole.protocol.ForwardRef;
import dev.porthole.protocol.pki.AgentIdentity;
import dev.porthole.protocol.pki.KeyMaterial;
import dev.porthole.protocol.pki.Pem;
import dev.porthole.sidecar.AgentSettings.InvalidSettingsException;
import dev.porthole.sidecar.AgentSettings.PemSetting;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * Reads and checks the agent's certificate and key (with the JDK alone: the agent carries no certificate authority).
 * Every check that can fail at start does, naming the variable at fault: an agent that started with a certificate for
 * another forward, or a key of another certificate, would only show it as handshakes every client refuses.
 */
final class AgentKeys {
    private static final byte[] PROBE = "porthole agent key check".getBytes(StandardCharsets.US_ASCII);

    private AgentKeys() {
    }

    /** The agent's key material from {@code certificate} (chain, leaf first) and {@code key}, for {@code forward}. */
    static KeyMaterial read(PemSetting certificate, PemSetting key, ForwardRef forward) {
        List<X509Certificate> chain;
        try {
            chain = Pem.readCertificates(certificate.text());
        } catch (IllegalArgumentException e) {
            throw new InvalidSettingsException(certificate.variable() + ": " + e.getMessage());
        }
        PrivateKey privateKey;
        try {
            privateKey = Pem.readPrivateKey(key.text());
        } catch (IllegalArgumentException e) {
            throw new InvalidSettingsException(key.variable() + ": " + e.getMessage());
        }
        AgentIdentity identity;
        try {
            identity = AgentIdentity.fromCertificate(chain.get(0));
        } catch (IllegalArgumentException e) {
            throw new InvalidSettingsException(certificate.variable() + ": not an agent certificate: " + e.getMessage());
        }
        if (!identity.forward().equals(forward)) {
            throw new InvalidSettingsException(certificate.variable() + ": agent certificate is for forward "
                    + identity.forward() + ", not " + forward + " (PORTHOLE_FORWARD)");
        }
        if (!belongTogether(privateKey, chain.get(0))) {
            throw new InvalidSettingsException(key.variable() + ": the private key does not belong to the agent certificate ("
                    + certificate.variable() + ")");
        }
        return new KeyMaterial(privateKey, chain);
    }

    /** Whether {@code key} signs what the certificate's public key verifies (the JDK has no simpler pair check). */
    private static boolean belongTogether(PrivateKey key, X509Certificate certificate) {
        if (!key.getAlgorithm().equals(certificate.getPublicKey().getAlgorithm())) {
            return false;
        }
        String algorithm = "EC".equals(key.getAlgorithm()) ? "SHA256withECDSA" : "SHA256withRSA";
        try {
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(PROBE);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(certificate.getPublicKey());
            verifier.update(PROBE);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }
}
