package dev.porthole.pki;

import dev.porthole.protocol.pki.Pem;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

/** PKCS#10 certification requests as PEM ({@code CERTIFICATE REQUEST}), as Kubernetes CSRs carry them. */
public final class CertificationRequests {
    static final String LABEL = "CERTIFICATE REQUEST";

    private CertificationRequests() {
    }

    public static PKCS10CertificationRequest read(String pem) {
        List<byte[]> blocks = Pem.blocks(pem, LABEL);
        if (blocks.isEmpty()) {
            throw new IllegalArgumentException("no certificate request in PEM input");
        }
        try {
            return new PKCS10CertificationRequest(blocks.get(0));
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("unreadable certificate request: " + e.getMessage(), e);
        }
    }

    public static String write(PKCS10CertificationRequest request) {
        try {
            return Pem.block(LABEL, request.getEncoded());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
