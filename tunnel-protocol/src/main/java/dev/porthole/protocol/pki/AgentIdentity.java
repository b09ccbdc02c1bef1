package dev.porthole.protocol.pki;

import dev.porthole.protocol.ForwardRef;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which forward an agent certificate serves: the one URI SAN {@code porthole-agent://NAMESPACE/NAME?uid=FORWARD_UID}.
 * It is the certificate the agent presents to clients at the inner, end-to-end TLS handshake, and the one place a
 * client learns that the peer it reached through the relay is the agent of its own forward.
 *
 * <p>Roles stay apart by URI scheme: a client certificate carries {@code porthole://} ({@link IdentityUri}) and is
 * refused here; an agent certificate carries no {@code porthole://} SAN and is refused as a client's; the relay's
 * certificate carries neither (DNS and IP SANs only), so it passes as neither. Namespace and name are DNS-1123 names
 * and the uid letters, digits and {@code -}, so the URI needs no encoding and has one form only.
 */
public record AgentIdentity(ForwardRef forward, String forwardUid, Instant notAfter) {
    public static final String PREFIX = "porthole-agent://";
    private static final Pattern URI = Pattern.compile("porthole-agent://([^/?]+)/([^/?]+)\\?uid=([A-Za-z0-9-]+)");

    public AgentIdentity {
        if (forward == null) {
            throw new IllegalArgumentException("an agent identity names its forward");
        }
        ClientIdentity.checkUid(forwardUid);
    }

    /** The certificate's URI SAN. */
    public String uri() {
        return PREFIX + forward + "?uid=" + forwardUid;
    }

    /**
     * Reads the identity of an agent certificate; fails when it carries no or more than one {@code porthole-agent://}
     * URI SAN, a malformed one, or also a client's {@code porthole://} SAN. The signature is not checked here (TLS did).
     */
    public static AgentIdentity fromCertificate(X509Certificate certificate) {
        List<String> agentUris = new ArrayList<>();
        boolean clientUri = false;
        try {
            Collection<List<?>> sans = certificate.getSubjectAlternativeNames();
            if (sans != null) {
                for (List<?> san : sans) {
                    if (((Integer) san.get(0)) == 6 && san.get(1) instanceof String uri) {
                        if (uri.startsWith(PREFIX)) {
                            agentUris.add(uri);
                        } else if (uri.startsWith(IdentityUri.PREFIX)) {
                            clientUri = true;
                        }
                    }
                }
            }
        } catch (CertificateParsingException e) {
            throw new IllegalArgumentException("unreadable subject alternative names: " + e.getMessage(), e);
        }
        if (clientUri) {
            throw new IllegalArgumentException("this is a client certificate, not an agent's");
        }
        if (agentUris.size() != 1) {
            throw new IllegalArgumentException("agent certificate must carry exactly one " + PREFIX
                    + " URI SAN naming its forward, carries " + agentUris.size());
        }
        Matcher m = URI.matcher(agentUris.get(0));
        if (!m.matches()) {
            throw new IllegalArgumentException("malformed agent identity URI " + agentUris.get(0));
        }
        try {
            return new AgentIdentity(new ForwardRef(m.group(1), m.group(2)), m.group(3),
                    certificate.getNotAfter().toInstant());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("agent certificate's identity is not acceptable: " + e.getMessage(), e);
        }
    }
}
