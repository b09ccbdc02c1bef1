package dev.porthole.relay;

import dev.porthole.protocol.ForwardRef;
import dev.porthole.protocol.pki.ClientIdentity;
import java.security.cert.X509Certificate;
import java.time.Instant;

/**
 * The relay's own checks of a client certificate against the forward it asks for, before the
 * {@link SessionAuthorizer} is consulted (the chain was verified by TLS). Returns a readable refusal or null.
 */
final class ClientCheck {

    private ClientCheck() {
    }

    static String refusal(ClientIdentity identity, X509Certificate certificate, ForwardRef requestedForward, Instant now) {
        if (!identity.forward().equals(requestedForward)) {
            return "certificate is for forward " + identity.forward() + ", not " + requestedForward;
        }
        if (now.isBefore(certificate.getNotBefore().toInstant())) {
            return "certificate is not valid before " + certificate.getNotBefore().toInstant();
        }
        if (!now.isBefore(identity.notAfter())) {
            return "certificate expired at " + identity.notAfter();
        }
        return null;
    }
}
