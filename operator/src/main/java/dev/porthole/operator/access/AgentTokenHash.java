package dev.porthole.operator.access;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The published form of an agent token: its SHA-256 in lowercase hex. The operator writes it to the forward's status;
 * the relay compares a connecting agent's token against it and so needs no access to Secrets. (A 256-bit random token
 * cannot be recovered from its hash.)
 */
public final class AgentTokenHash {
    private AgentTokenHash() {
    }

    public static String of(byte[] token) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(token));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    /** Whether {@code token} (as the agent sent it) hashes to {@code published}, compared in constant time. */
    public static boolean matches(String token, String published) {
        if (token == null || token.isEmpty() || published == null) {
            return false;
        }
        return MessageDigest.isEqual(of(token.getBytes(StandardCharsets.UTF_8)).getBytes(StandardCharsets.US_ASCII),
                published.getBytes(StandardCharsets.US_ASCII));
    }
}
