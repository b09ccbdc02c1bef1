package dev.porthole.relay;

import dev.porthole.protocol.pki.KeyMaterial;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Seals and opens {@link SessionPass}es with HMAC-SHA256. The key is derived from the relay's serving key, which every
 * replica mounts from the same Secret: replicas share no other state, yet each verifies what another granted. A
 * pass is integrity-protected, not secret (it travels in the clear on the data connection); it opens a session only
 * for a client that also passes the agent's end-to-end TLS handshake with the certificate the pass names.
 */
final class PassSeal {

    static final int MAC_LENGTH = 32;
    private static final String ALGORITHM = "HmacSHA256";
    private static final byte[] LABEL = "porthole session pass v2".getBytes(StandardCharsets.US_ASCII);

    private final SecretKeySpec key;

    private PassSeal(byte[] key) {
        this.key = new SecretKeySpec(key, ALGORITHM);
    }

    /** The seal every replica holding {@code serverKey} derives alike. */
    static PassSeal derivedFrom(KeyMaterial serverKey) {
        byte[] secret = serverKey.privateKey().getEncoded();
        try {
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(new SecretKeySpec(secret, ALGORITHM));
            return new PassSeal(mac.doFinal(LABEL));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot derive the session pass key", e);
        } finally {
            Arrays.fill(secret, (byte) 0);
        }
    }

    byte[] seal(SessionPass pass) {
        byte[] body = pass.encode();
        byte[] sealed = Arrays.copyOf(body, body.length + MAC_LENGTH);
        System.arraycopy(mac(body), 0, sealed, body.length, MAC_LENGTH);
        return sealed;
    }

    /** The pass {@code sealed} carries, or an exception if it was not sealed with this key or is malformed. */
    SessionPass open(byte[] sealed) throws PassException {
        if (sealed.length <= MAC_LENGTH) {
            throw new PassException("session pass too short");
        }
        byte[] body = Arrays.copyOf(sealed, sealed.length - MAC_LENGTH);
        byte[] presented = Arrays.copyOfRange(sealed, body.length, sealed.length);
        if (!MessageDigest.isEqual(mac(body), presented)) {
            throw new PassException("session pass not sealed by this relay (forged, altered, or from a relay with another key)");
        }
        try {
            return SessionPass.decode(body);
        } catch (IOException | RuntimeException e) {
            throw new PassException("malformed session pass: " + e.getMessage());
        }
    }

    private byte[] mac(byte[] body) {
        try {
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(key);
            return mac.doFinal(body);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A pass that does not open. */
    static final class PassException extends Exception {
        PassException(String message) {
            super(message, null, false, false);
        }
    }
}
