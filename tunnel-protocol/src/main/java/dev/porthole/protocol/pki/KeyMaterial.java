package dev.porthole.protocol.pki;

import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;

/** A private key and its certificate chain (leaf first), as used by a TLS endpoint. */
public record KeyMaterial(PrivateKey privateKey, List<X509Certificate> chain) {

    public KeyMaterial {
        chain = List.copyOf(chain);
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("certificate chain is empty");
        }
    }

    public X509Certificate certificate() {
        return chain.get(0);
    }

    public static KeyMaterial fromPem(String certificateChainPem, String privateKeyPem) {
        return new KeyMaterial(Pem.readPrivateKey(privateKeyPem), Pem.readCertificates(certificateChainPem));
    }

    public static KeyMaterial fromFiles(Path certificateChain, Path privateKey) {
        return fromPem(Pem.readFile(certificateChain), Pem.readFile(privateKey));
    }

    public String certificateChainPem() {
        return Pem.write(chain);
    }

    public String privateKeyPem() {
        return Pem.write(privateKey);
    }
}
