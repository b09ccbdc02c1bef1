package dev.porthole.protocol.tls;

import dev.porthole.protocol.ForwardRef;
import dev.porthole.protocol.pki.AgentIdentity;
import dev.porthole.protocol.pki.ClientIdentity;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import javax.net.ssl.X509TrustManager;

/**
 * Trust at the end-to-end handshake between a client and an agent, for one forward: the peer's certificate must be
 * issued directly by the pinned Porthole CA, valid now, for the expected purpose, and carry the expected role's
 * identity for exactly this forward (namespace, name and uid). The relay in between holds neither side's key, so a
 * relay that presented its own certificate, or an agent certificate of another forward, or a client certificate in
 * the agent's place, is refused here.
 */
public final class ForwardPeerTrust implements X509TrustManager {

    private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
    private static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";

    private enum Peer { CLIENT, AGENT }

    private final X509Certificate ca;
    private final ForwardRef forward;
    private final String forwardUid;
    private final Clock clock;
    private final Peer peer;

    private ForwardPeerTrust(X509Certificate ca, ForwardRef forward, String forwardUid, Clock clock, Peer peer) {
        this.ca = ca;
        this.forward = forward;
        this.forwardUid = ClientIdentity.checkUid(forwardUid);
        this.clock = clock;
        this.peer = peer;
    }

    /** What the agent trusts: client certificates of this forward. */
    public static ForwardPeerTrust clientsOf(X509Certificate ca, ForwardRef forward, String forwardUid, Clock clock) {
        return new ForwardPeerTrust(ca, forward, forwardUid, clock, Peer.CLIENT);
    }

    /** What a client trusts: the agent certificate of this forward. */
    public static ForwardPeerTrust agentOf(X509Certificate ca, ForwardRef forward, String forwardUid, Clock clock) {
        return new ForwardPeerTrust(ca, forward, forwardUid, clock, Peer.AGENT);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        if (peer != Peer.CLIENT) {
            throw new CertificateException("this trust manager verifies agents only");
        }
        X509Certificate leaf = issuedByCa(chain, "client");
        purpose(leaf, CLIENT_AUTH, "client authentication");
        ClientIdentity identity;
        try {
            identity = ClientIdentity.fromCertificate(leaf);
        } catch (IllegalArgumentException e) {
            throw new CertificateException(e.getMessage(), e);
        }
        same("client", identity.forward(), identity.forwardUid());
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        if (peer != Peer.AGENT) {
            throw new CertificateException("this trust manager verifies clients only");
        }
        X509Certificate leaf = issuedByCa(chain, "agent");
        purpose(leaf, SERVER_AUTH, "server authentication");
        AgentIdentity identity;
        try {
            identity = AgentIdentity.fromCertificate(leaf);
        } catch (IllegalArgumentException e) {
            throw new CertificateException("the peer is not an agent: " + e.getMessage(), e);
        }
        same("agent", identity.forward(), identity.forwardUid());
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[] {ca};
    }

    private X509Certificate issuedByCa(X509Certificate[] chain, String role) throws CertificateException {
        if (chain == null || chain.length == 0) {
            throw new CertificateException("no " + role + " certificate");
        }
        X509Certificate leaf = chain[0];
        if (!leaf.getIssuerX500Principal().equals(ca.getSubjectX500Principal())) {
            throw new CertificateException(role + " certificate not issued by the Porthole CA: issuer "
                    + leaf.getIssuerX500Principal());
        }
        try {
            leaf.verify(ca.getPublicKey());
        } catch (GeneralSecurityException e) {
            throw new CertificateException(role + " certificate signature does not verify against the Porthole CA", e);
        }
        Instant now = clock.instant();
        ca.checkValidity(java.util.Date.from(now));
        if (now.isBefore(leaf.getNotBefore().toInstant()) || !now.isBefore(leaf.getNotAfter().toInstant())) {
            throw new CertificateException(role + " certificate is valid from " + leaf.getNotBefore().toInstant()
                    + " to " + leaf.getNotAfter().toInstant() + ", not now (" + now + ")");
        }
        return leaf;
    }

    private static void purpose(X509Certificate leaf, String oid, String what) throws CertificateException {
        List<String> usages = leaf.getExtendedKeyUsage();
        if (usages == null || !usages.contains(oid)) {
            throw new CertificateException("certificate is not for " + what);
        }
    }

    private void same(String role, ForwardRef theirs, String theirUid) throws CertificateException {
        if (!theirs.equals(forward)) {
            throw new CertificateException(role + " certificate is for forward " + theirs + ", not " + forward);
        }
        if (!theirUid.equals(forwardUid)) {
            throw new CertificateException(role + " certificate is for an earlier or later forward named " + forward
                    + " (uid " + theirUid + ", this one is " + forwardUid + ")");
        }
    }
}
