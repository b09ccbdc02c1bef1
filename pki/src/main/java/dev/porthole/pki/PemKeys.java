package dev.porthole.pki;

import dev.porthole.protocol.pki.KeyMaterial;
import dev.porthole.protocol.pki.Pem;
import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Path;
import java.security.PrivateKey;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/**
 * Private keys from PEM as users bring them: PKCS#8 ({@code PRIVATE KEY}) or SEC1 ({@code EC PRIVATE KEY}, what
 * {@code openssl ecparam -genkey} writes). The JDK reads only the first ({@link Pem#readPrivateKey}).
 */
public final class PemKeys {
    private PemKeys() {
    }

    public static PrivateKey readPrivateKey(String pem) {
        JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            Object object;
            while ((object = parser.readObject()) != null) {
                if (object instanceof PEMKeyPair pair) {
                    return converter.getPrivateKey(pair.getPrivateKeyInfo());
                }
                if (object instanceof PrivateKeyInfo info) {
                    return converter.getPrivateKey(info);
                }
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("unreadable private key: " + e.getMessage(), e);
        }
        throw new IllegalArgumentException("no private key in PEM input");
    }

    /** A certificate chain and its key from PEM files, the key in either format. */
    public static KeyMaterial fromFiles(Path certificateChain, Path privateKey) {
        return new KeyMaterial(readPrivateKey(Pem.readFile(privateKey)), Pem.readCertificates(Pem.readFile(certificateChain)));
    }
}
