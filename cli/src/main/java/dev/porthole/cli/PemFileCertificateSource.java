package dev.porthole.cli;

import dev.porthole.protocol.pki.KeyMaterial;
import java.nio.file.Path;

/** A client certificate and key read from PEM files. */
public record PemFileCertificateSource(Path certificateFile, Path privateKeyFile) implements CertificateSource {

    @Override
    public KeyMaterial clientKey(String forward) {
        try {
            return KeyMaterial.fromFiles(certificateFile, privateKeyFile);
        } catch (RuntimeException e) {
            throw new ForwarderException("cannot read client certificate " + certificateFile + " / key "
                    + privateKeyFile + ": " + e.getMessage());
        }
    }
}
