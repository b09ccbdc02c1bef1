package dev.porthole.protocol.pki;

import dev.porthole.protocol.ForwardRef;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Who a client certificate speaks for (user name and groups exactly as the API server authenticated
 * them), the one forward it may reach ({@code namespace/name} and that forward's {@code metadata.uid},
 * so a certificate dies with its forward even if another is created under the same name), and its
 * notAfter.
 *
 * <p>All of it but notAfter is read from the certificate's one {@link IdentityUri} SAN; the subject DN is
 * only a display form and is never read.
 */
public record ClientIdentity(String username, List<String> groups, ForwardRef forward, String forwardUid, Instant notAfter) {

    private static final int MAX_UID_LENGTH = 128;

    public ClientIdentity {
        groups = List.copyOf(groups);
        IdentityNames.check(username, groups);
        if (forward == null) {
            throw new IllegalArgumentException("a client identity names its forward");
        }
        checkUid(forwardUid);
    }

    /** The certificate's identity URI SAN ({@link IdentityUri}). */
    public String uri() {
        return IdentityUri.format(this);
    }

    /**
     * Reads the identity a Porthole client certificate carries; fails when it carries none or more than
     * one {@code porthole://} URI SAN, when that URI is malformed or not canonical, or when its names are
     * outside what {@link IdentityNames} allows. The certificate's signature is not checked here (TLS did).
     */
    public static ClientIdentity fromCertificate(X509Certificate certificate) {
        IdentityUri.Contents contents = IdentityUri.parse(identityUri(certificate));
        try {
            return new ClientIdentity(contents.username(), contents.groups(), ForwardRef.parse(contents.forward()), contents.forwardUid(),
                    certificate.getNotAfter().toInstant());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("client certificate's identity is not acceptable: " + e.getMessage(), e);
        }
    }

    private static String identityUri(X509Certificate certificate) {
        List<String> uris = new ArrayList<>();
        try {
            Collection<List<?>> sans = certificate.getSubjectAlternativeNames();
            if (sans != null) {
                for (List<?> san : sans) {
                    if (((Integer) san.get(0)) == 6 && san.get(1) instanceof String uri && uri.startsWith(IdentityUri.PREFIX)) {
                        uris.add(uri);
                    }
                }
            }
        } catch (CertificateParsingException e) {
            throw new IllegalArgumentException("unreadable subject alternative names: " + e.getMessage(), e);
        }
        if (uris.size() != 1) {
            throw new IllegalArgumentException("client certificate must carry exactly one " + IdentityUri.PREFIX
                    + " URI SAN naming its forward and identity, carries " + uris.size());
        }
        return uris.get(0);
    }

    /**
     * Validates a forward uid: 1 to 128 letters, digits and {@code -} (a Kubernetes uid is a UUID; a
     * standalone relay's config may use any such string).
     */
    public static String checkUid(String uid) {
        if (uid == null || uid.isEmpty() || uid.length() > MAX_UID_LENGTH || !uid.matches("[A-Za-z0-9-]+")) {
            throw new IllegalArgumentException("forward uid must be 1 to " + MAX_UID_LENGTH
                    + " letters, digits or '-', got '" + uid + "'");
        }
        return uid;
    }
}
