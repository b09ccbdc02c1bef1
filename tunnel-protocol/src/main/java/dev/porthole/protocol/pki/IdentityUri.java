package dev.porthole.protocol.pki;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The one place a Porthole client certificate says who it speaks for and which forward it was issued
 * for: a URI subject alternative name
 *
 * <pre>
 * porthole://NAMESPACE/NAME?uid=FORWARD_UID&amp;user=USER&amp;group=GROUP&amp;group=GROUP...
 * </pre>
 *
 * with the user and group names in UTF-8, percent-encoded: every byte except the unreserved characters
 * of RFC 3986 ({@code A-Z a-z 0-9 - . _ ~}) as {@code %XX} with upper-case hex, groups in the order the
 * API server stamped them. Reading is strict: exactly this grammar, valid UTF-8, and the canonical form
 * only (re-encoding must give the same string), so every identity has exactly one URI and every URI at
 * most one identity.
 *
 * <p>Why not the subject DN, as Kubernetes does (CN = user, O = groups): a DN is read back through a
 * string form (RFC 4514) that escapes {@code + \ # , = " < > ;} and edge spaces and splits multi-valued
 * RDNs, and written through a parser that takes a leading {@code #} as hex-encoded DER ({@code
 * "#0c05616c696365"} becomes {@code alice}); what comes back is not what went in.
 *
 * <p>Why not a private X.509 extension under the UUID arc ({@code 2.25.<128-bit integer>}, which needs no
 * registration): Go's crypto/x509 refuses any certificate with an extension OID arc over 31 bits
 * ("x509: malformed extension OID field", Go 1.26), and the API server parses the certificate a signer
 * writes into a CertificateSigningRequest's status with it, so it refuses the update; kubectl and other
 * Go tools could not read the certificate either. An OID with small arcs needs a registered arc
 * (an IANA enterprise number), which Porthole does not have. An otherName SAN needs an OID too.
 *
 * <p>A URI SAN is parsed by every X.509 library (workload identities such as SPIFFE IDs travel the same
 * way), it keeps the forward readable in {@code openssl x509 -text}, and percent-encoding with one
 * canonical form is a bijection, so names arrive byte for byte. Nothing else in the certificate is read
 * for identity; the subject CN is a display form.
 */
public final class IdentityUri {
    public static final String PREFIX = "porthole://";
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    /** What a URI says; the names are not yet checked against {@link IdentityNames}. */
    record Contents(String forward, String forwardUid, String username, List<String> groups) {
    }

    private IdentityUri() {
    }

    /** The URI for {@code identity}. */
    static String format(ClientIdentity identity) {
        return format(identity.forward().toString(), identity.forwardUid(), identity.username(), identity.groups());
    }

    /** How many characters the user and group names take in the URI, with their parameter names. */
    static long encodedLength(String username, List<String> groups) {
        long length = "&user=".length() + encode(username).length();
        for (String group : groups) {
            length += "&group=".length() + encode(group).length();
        }
        return length;
    }

    /** Reads a URI; throws IllegalArgumentException naming what is wrong with it. */
    static Contents parse(String uri) {
        if (!uri.startsWith(PREFIX)) {
            throw malformed("it is not a " + PREFIX + " URI");
        }
        int query = uri.indexOf('?');
        if (query < 0) {
            throw malformed("it carries no identity (no ?uid=...&user=...)");
        }
        String forward = uri.substring(PREFIX.length(), query);
        String[] parameters = uri.substring(query + 1).split("&", -1);
        if (parameters.length < 2 || !parameters[0].startsWith("uid=") || !parameters[1].startsWith("user=")) {
            throw malformed("it must go on with uid=, then user=, then any group=");
        }
        List<String> groups = new ArrayList<>();
        for (int i = 2; i < parameters.length; i++) {
            if (!parameters[i].startsWith("group=")) {
                throw malformed("parameter #" + (i + 1) + " is not group=");
            }
            groups.add(decode(parameters[i].substring("group=".length()), "group #" + (i - 1)));
        }
        Contents contents = new Contents(forward, decode(parameters[0].substring("uid=".length()), "uid"),
                decode(parameters[1].substring("user=".length()), "user"), groups);
        if (!format(contents.forward(), contents.forwardUid(), contents.username(), contents.groups()).equals(uri)) {
            throw malformed("it is not in canonical form");
        }
        return contents;
    }

    private static String format(String forward, String uid, String username, List<String> groups) {
        StringBuilder uri = new StringBuilder(PREFIX).append(forward)
                .append("?uid=").append(encode(uid)).append("&user=").append(encode(username));
        for (String group : groups) {
            uri.append("&group=").append(encode(group));
        }
        return uri.toString();
    }

    /** Percent-encodes the UTF-8 of {@code name}; only called on names without lone surrogates. */
    private static String encode(String name) {
        StringBuilder out = new StringBuilder();
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xFF;
            if (isUnreserved(c)) {
                out.append((char) c);
            } else {
                out.append('%').append(HEX[c >> 4]).append(HEX[c & 0xF]);
            }
        }
        return out.toString();
    }

    private static String decode(String encoded, String what) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int i = 0; i < encoded.length(); i++) {
            char c = encoded.charAt(i);
            if (c == '%' && i + 2 < encoded.length() && hex(encoded.charAt(i + 1)) >= 0 && hex(encoded.charAt(i + 2)) >= 0) {
                bytes.write(hex(encoded.charAt(i + 1)) << 4 | hex(encoded.charAt(i + 2)));
                i += 2;
            } else if (c < 0x80 && isUnreserved(c)) {
                bytes.write(c);
            } else {
                throw malformed(what + " has a character that must be percent-encoded, or a bad %XX, at index " + i);
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes.toByteArray())).toString();
        } catch (CharacterCodingException e) {
            throw malformed(what + " is not valid UTF-8");
        }
    }

    private static boolean isUnreserved(int c) {
        return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_'
                || c == '~';
    }

    /** The value of an upper-case hex digit, or -1 (lower case is not canonical). */
    private static int hex(char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    }

    private static IllegalArgumentException malformed(String why) {
        return new IllegalArgumentException("client certificate has a malformed Porthole identity URI: " + why);
    }
}
