package dev.porthole.cli;

import dev.porthole.protocol.ForwardRef;
import dev.porthole.pki.PemKeys;
import dev.porthole.protocol.pki.KeyMaterial;
import java.nio.file.Path;

/** A client certificate and key read from PEM files (the key PKCS#8 or SEC1, as openssl writes either). */
public record PemFileCertificateSource(Path certificateFile, Path privateKeyFile) implements CertificateSource {

    @Override
    public KeyMaterial clientKey(ForwardRef forward) {
        try {
            return PemKeys.fromFiles(certificateFile, privateKeyFile);
        } catch (RuntimeException e) {
            throw new ForwarderException("cannot read client certificate " + certificateFile + " / key "
                    + privateKeyFile + ": " + e.getMessage());
        }
    }
}
