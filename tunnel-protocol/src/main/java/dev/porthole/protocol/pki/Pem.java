package dev.porthole.protocol.pki;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reading and writing PEM with the JDK alone: certificates, PKCS#8 private keys ({@code PRIVATE KEY}) and any DER
 * block by its label. (SEC1 keys and certification requests need more than the JDK: see porthole-pki.)
 */
public final class Pem {
    private static final Pattern BLOCK = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----\\s*([A-Za-z0-9+/=\\s]+?)\\s*-----END \\1-----");

    private Pem() {
    }

    /** PEM of certificates and PKCS#8 private keys, in the order given. */
    public static String write(Object... objects) {
        StringBuilder out = new StringBuilder();
        for (Object object : objects) {
            if (object instanceof X509Certificate certificate) {
                try {
                    out.append(block("CERTIFICATE", certificate.getEncoded()));
                } catch (CertificateException e) {
                    throw new IllegalArgumentException("unencodable certificate: " + e.getMessage(), e);
                }
            } else if (object instanceof PrivateKey key && "PKCS#8".equals(key.getFormat())) {
                out.append(block("PRIVATE KEY", key.getEncoded()));
            } else {
                throw new IllegalArgumentException("cannot write " + (object == null ? "null" : object.getClass().getName())
                        + " as PEM");
            }
        }
        return out.toString();
    }

    public static String write(List<X509Certificate> certificates) {
        return write(certificates.toArray());
    }

    /** One PEM block: {@code label} (e.g. CERTIFICATE REQUEST) around {@code der}, 64 characters a line. */
    public static String block(String label, byte[] der) {
        return "-----BEGIN " + label + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + label + "-----\n";
    }

    /** The DER contents of every block labelled {@code label}, in order. */
    public static List<byte[]> blocks(String pem, String label) {
        List<byte[]> out = new ArrayList<>();
        Matcher m = BLOCK.matcher(pem);
        while (m.find()) {
            if (m.group(1).equals(label)) {
                try {
                    out.add(Base64.getMimeDecoder().decode(m.group(2)));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("unreadable PEM block " + label + ": " + e.getMessage(), e);
                }
            }
        }
        return out;
    }

    public static List<X509Certificate> readCertificates(String pem) {
        List<X509Certificate> certificates = new ArrayList<>();
        for (byte[] der : blocks(pem, "CERTIFICATE")) {
            certificates.add(toCertificate(der));
        }
        if (certificates.isEmpty()) {
            throw new IllegalArgumentException("no certificate in PEM input");
        }
        return certificates;
    }

    public static X509Certificate readCertificate(String pem) {
        return readCertificates(pem).get(0);
    }

    /** A PKCS#8 private key (EC or RSA). */
    public static PrivateKey readPrivateKey(String pem) {
        List<byte[]> keys = blocks(pem, "PRIVATE KEY");
        if (keys.isEmpty()) {
            throw new IllegalArgumentException(blocks(pem, "EC PRIVATE KEY").isEmpty() ? "no private key in PEM input"
                    : "an EC PRIVATE KEY (SEC1) block: convert it with 'openssl pkcs8 -topk8 -nocrypt' to PKCS#8");
        }
        for (String algorithm : List.of("EC", "RSA")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(keys.get(0)));
            } catch (GeneralSecurityException e) {
                // not this algorithm: try the next
            }
        }
        throw new IllegalArgumentException("unreadable private key: neither an EC nor an RSA PKCS#8 key");
    }

    public static String readFile(Path path) {
        try {
            return Files.readString(path, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path, e);
        }
    }

    public static X509Certificate toCertificate(byte[] der) {
        try {
            Certificate c = CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
            return (X509Certificate) c;
        } catch (CertificateException e) {
            throw new IllegalArgumentException("invalid certificate: " + e.getMessage(), e);
        }
    }
}
