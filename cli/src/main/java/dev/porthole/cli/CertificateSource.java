package dev.porthole.cli;

import dev.porthole.protocol.ForwardRef;
import dev.porthole.protocol.pki.KeyMaterial;

/**
 * Where the CLI's client certificate for a forward comes from. Today: PEM files
 * ({@link PemFileCertificateSource}); later: a key generated locally and a certificate obtained through
 * the Kubernetes CertificateSigningRequest API (signer {@code porthole.dev/client}).
 */
@FunctionalInterface
public interface CertificateSource {

    /** The private key and certificate chain to present to the relay for {@code forward}. */
    KeyMaterial clientKey(ForwardRef forward);
}
