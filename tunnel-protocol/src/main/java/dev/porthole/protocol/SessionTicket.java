package dev.porthole.protocol;

import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * The one-time secret that pairs a session's two data connections at the relay: 256 random bits the relay hands the
 * client (in a {@link Frame.Grant}) and the agent (in a {@link Frame.Dial}) over their authenticated control
 * connections. A data connection presents it in its {@link DataPreamble}; the relay accepts each side once, within the
 * handshake timeout. It travels in the clear on the data connections, so it authorises nothing by itself: whoever
 * presents it still has to pass the end-to-end TLS handshake with the other side's certificate.
 */
public final class SessionTicket {
    public static final int LENGTH = 32;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final byte[] bytes;

    private SessionTicket(byte[] bytes) {
        this.bytes = bytes;
    }

    public static SessionTicket random() {
        byte[] bytes = new byte[LENGTH];
        RANDOM.nextBytes(bytes);
        return new SessionTicket(bytes);
    }

    public static SessionTicket of(byte[] bytes) {
        if (bytes.length != LENGTH) {
            throw new ProtocolException("a session ticket is " + LENGTH + " bytes, got " + bytes.length);
        }
        return new SessionTicket(bytes.clone());
    }

    public byte[] bytes() {
        return bytes.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SessionTicket t && java.security.MessageDigest.isEqual(t.bytes, bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    /** The first 4 bytes only, so that logs can match the two sides without carrying the secret. */
    @Override
    public String toString() {
        return "ticket-" + HexFormat.of().formatHex(bytes, 0, 4);
    }
}
