package dev.porthole.protocol.tls;

import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.X509TrustManager;

/**
 * Trusts client certificates issued directly by one pinned CA. The leaf's validity dates are
 * deliberately not checked here: the relay checks them per session, so that an expired certificate is
 * answered with a readable refusal instead of a bare TLS alert. Everything else (issuer, signature, the
 * CA's own validity, client-auth usage) is checked.
 */
public final class CaPinningTrustManager implements X509TrustManager {

    private static final String CLIENT_AUTH_OID = "1.3.6.1.5.5.7.3.2";

    private final X509Certificate ca;

    public CaPinningTrustManager(X509Certificate ca) {
        this.ca = ca;
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        if (chain == null || chain.length == 0) {
            throw new CertificateException("no client certificate");
        }
        X509Certificate leaf = chain[0];
        if (!leaf.getIssuerX500Principal().equals(ca.getSubjectX500Principal())) {
            throw new CertificateException("client certificate not issued by the Porthole CA: issuer "
                    + leaf.getIssuerX500Principal());
        }
        try {
            leaf.verify(ca.getPublicKey());
        } catch (GeneralSecurityException e) {
            throw new CertificateException("client certificate signature does not verify against the Porthole CA", e);
        }
        ca.checkValidity();
        List<String> usages = leaf.getExtendedKeyUsage();
        if (usages != null && !usages.contains(CLIENT_AUTH_OID)) {
            throw new CertificateException("certificate is not for client authentication");
        }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("this trust manager only verifies clients");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[] {ca};
    }
}
