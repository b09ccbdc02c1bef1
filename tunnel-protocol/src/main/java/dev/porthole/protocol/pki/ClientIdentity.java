package dev.porthole.protocol.pki;

import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;

/**
 * Who a client certificate speaks for: subject CN = username, one O per group, URI SAN
 * {@code porthole://NAMESPACE/NAME} = the one forward it may reach, and its notAfter.
 */
public record ClientIdentity(String username, List<String> groups, String forward, Instant notAfter) {

    /** URI scheme of the forward SAN. */
    public static final String FORWARD_URI_PREFIX = "porthole://";

    public ClientIdentity {
        groups = List.copyOf(groups);
        if (username == null || username.isBlank()) {
            throw new IllegalArgumentException("username is empty");
        }
        checkForward(forward);
    }

    /** The forward's URI SAN value. */
    public String forwardUri() {
        return FORWARD_URI_PREFIX + forward;
    }

    /** Reads the identity a Porthole client certificate carries; fails when it carries none. */
    public static ClientIdentity fromCertificate(X509Certificate certificate) {
        X500Name subject = X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded());
        RDN[] cn = subject.getRDNs(BCStyle.CN);
        if (cn.length != 1) {
            throw new IllegalArgumentException("client certificate must have exactly one CN, has " + cn.length);
        }
        List<String> groups = new ArrayList<>();
        for (RDN o : subject.getRDNs(BCStyle.O)) {
            groups.add(IETFUtils.valueToString(o.getFirst().getValue()));
        }
        List<String> forwards = new ArrayList<>();
        try {
            Collection<List<?>> sans = certificate.getSubjectAlternativeNames();
            if (sans != null) {
                for (List<?> san : sans) {
                    if (((Integer) san.get(0)) == 6 && san.get(1) instanceof String uri
                            && uri.startsWith(FORWARD_URI_PREFIX)) {
                        forwards.add(uri.substring(FORWARD_URI_PREFIX.length()));
                    }
                }
            }
        } catch (CertificateParsingException e) {
            throw new IllegalArgumentException("unreadable subject alternative names: " + e.getMessage(), e);
        }
        if (forwards.size() != 1) {
            throw new IllegalArgumentException("client certificate must name exactly one forward as a "
                    + FORWARD_URI_PREFIX + " URI SAN, names " + forwards.size());
        }
        return new ClientIdentity(IETFUtils.valueToString(cn[0].getFirst().getValue()), groups, forwards.get(0),
                certificate.getNotAfter().toInstant());
    }

    /** Validates {@code namespace/name} (DNS-1123 labels). */
    public static String checkForward(String forward) {
        if (forward == null || !forward.matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?/[a-z0-9]([-.a-z0-9]*[a-z0-9])?")
                || forward.length() > 317) {
            throw new IllegalArgumentException("forward must be NAMESPACE/NAME, got '" + forward + "'");
        }
        return forward;
    }
}
