package dev.porthole.protocol.pki;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The user and group names a client certificate can carry byte for byte, and the limits on them. The
 * signer refuses anything outside them with the reason this class gives, and the relay refuses a
 * certificate whose names are outside them, so a name that reaches an authorization decision or an
 * audit record is always exactly the one the API server authenticated.
 *
 * <ul>
 *   <li>Every name must be valid Unicode, so that it has exactly one UTF-8 encoding: a Java string
 *       with a lone UTF-16 surrogate (JSON can carry one as an escape sequence) has none, and encoders
 *       replace it with {@code ?} or U+FFFD, which would be another name.</li>
 *   <li>No control characters (Unicode category Cc: U+0000–U+001F, U+007F–U+009F). They round-trip in
 *       UTF-8, but they break or forge the lines of the logs and Events the names are written to, and
 *       C strings end at NUL. No authenticator the API server ships produces them.</li>
 *   <li>The user name is not empty; groups may be (the API server can stamp an empty group, and it
 *       matches no audience).</li>
 *   <li>Each name is at most {@value #MAX_NAME_BYTES} bytes of UTF-8, there are at most
 *       {@value #MAX_GROUPS} groups, and the names take at most {@value #MAX_ENCODED_CHARS} characters
 *       percent-encoded in the certificate's {@link IdentityUri} (a letter, digit or {@code -._~} takes
 *       one, any other byte of UTF-8 three): the certificate travels in the TLS handshake, and the
 *       JDK's TLS stack refuses handshake messages over 32 KiB by default
 *       ({@code jdk.tls.maxHandshakeMessageSize}), so the names must leave room for the key, the
 *       signature and the CA certificate. Real directories stay far below (a few hundred groups of a
 *       few dozen bytes).</li>
 * </ul>
 *
 * Nothing is normalised, trimmed or case-folded: {@code "José"} composed and decomposed are two names,
 * as they are to the API server and to RBAC.
 */
public final class IdentityNames {
    public static final int MAX_NAME_BYTES = 1024;
    public static final int MAX_GROUPS = 256;
    public static final int MAX_ENCODED_CHARS = 16 * 1024;
    private static final int MAX_ESCAPED = 100;

    private IdentityNames() {
    }

    /** Why {@code username} and {@code groups} cannot be carried exactly, or null when they can. */
    public static String problem(String username, List<String> groups) {
        if (username == null || username.isEmpty()) {
            return "the user name is empty";
        }
        String problem = nameProblem(username);
        if (problem != null) {
            return "the user name " + problem;
        }
        if (groups == null) {
            return null;
        }
        if (groups.size() > MAX_GROUPS) {
            return "the user is in " + groups.size() + " groups; a certificate carries at most " + MAX_GROUPS;
        }
        for (int i = 0; i < groups.size(); i++) {
            String group = groups.get(i);
            if (group == null) {
                return "group #" + (i + 1) + " is missing";
            }
            problem = nameProblem(group);
            if (problem != null) {
                return "group #" + (i + 1) + " " + problem;
            }
        }
        long encoded = IdentityUri.encodedLength(username, groups);
        if (encoded > MAX_ENCODED_CHARS) {
            return "the user and group names take " + encoded + " characters in a certificate; at most "
                    + MAX_ENCODED_CHARS + " fit";
        }
        return null;
    }

    /**
     * A name refused by {@link #problem} in a form safe to log or show: control characters and lone
     * surrogates as {@code \\uXXXX}, cut after {@value #MAX_ESCAPED} characters. Accepted names never
     * need it.
     */
    public static String escaped(String name) {
        if (name == null) {
            return "";
        }
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < name.length() && out.length() < MAX_ESCAPED) {
            int cp = name.codePointAt(i);
            if (isLoneSurrogate(cp) || Character.getType(cp) == Character.CONTROL) {
                out.append(String.format("\\u%04X", cp));
            } else {
                out.appendCodePoint(cp);
            }
            i += Character.charCount(cp);
        }
        return i < name.length() ? out + "…" : out.toString();
    }

    /** {@link #problem} as an exception, for constructors. */
    static void check(String username, List<String> groups) {
        String problem = problem(username, groups);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
    }

    /** What is wrong with one name, phrased to follow "the user name" or "group #n"; null when nothing. */
    private static String nameProblem(String name) {
        // Positions are given, never the name itself: it may be huge or contain the very characters refused.
        for (int i = 0; i < name.length(); ) {
            int cp = name.codePointAt(i);
            if (isLoneSurrogate(cp)) {
                return "contains a lone UTF-16 surrogate U+" + hex(cp) + " at index " + i + ", which has no UTF-8 encoding";
            }
            if (Character.getType(cp) == Character.CONTROL) {
                return "contains the control character U+" + hex(cp) + " at index " + i;
            }
            i += Character.charCount(cp);
        }
        long bytes = utf8Length(name);
        if (bytes > MAX_NAME_BYTES) {
            return "is " + bytes + " bytes of UTF-8; at most " + MAX_NAME_BYTES + " are allowed";
        }
        return null;
    }

    /** {@link String#codePointAt} returns a surrogate only for one that is not part of a pair. */
    private static boolean isLoneSurrogate(int codePoint) {
        return codePoint >= Character.MIN_SURROGATE && codePoint <= Character.MAX_SURROGATE;
    }

    /** Only called on strings without lone surrogates, for which this is exact. */
    private static long utf8Length(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    private static String hex(int cp) {
        return String.format("%04X", cp);
    }
}
