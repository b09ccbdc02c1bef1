package dev.porthole.testcluster;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The local cluster's own certificate authority and the certificates its processes present: the API server's
 * serving certificate (with the addresses pods and the node use to reach it), client certificates for the
 * administrator, the controllers and the node, and the service-account signing key. Everything is EC P-256,
 * lives one day and is written as PEM into one directory readable only by the owner.
 */
public final class ClusterPki {
    private static final Duration LIFETIME = Duration.ofDays(1);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path dir;
    private final KeyPair caKey;
    private final X509Certificate caCert;

    private ClusterPki(Path dir, KeyPair caKey, X509Certificate caCert) {
        this.dir = dir;
        this.caKey = caKey;
        this.caCert = caCert;
    }

    /** A new authority whose files go to {@code dir} (created, mode 0700). */
    public static ClusterPki create(Path dir) {
        try {
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
            KeyPair key = newKey();
            X500Name name = new X500Name("CN=porthole-local-cluster-ca");
            Instant now = Instant.now();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, serial(), Date.from(now.minusSeconds(60)),
                    Date.from(now.plus(LIFETIME)), name, key.getPublic());
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            b.addExtension(Extension.subjectKeyIdentifier, false,
                    new JcaX509ExtensionUtils().createSubjectKeyIdentifier(key.getPublic()));
            X509Certificate cert = sign(b, key);
            ClusterPki pki = new ClusterPki(dir, key, cert);
            pki.writePem("ca.crt", cert);
            pki.writePrivateKey("ca.key", key);
            return pki;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    public Path caCertificate() {
        return dir.resolve("ca.crt");
    }

    /** A serving certificate for the given DNS names and IP addresses; returns the pair of files. */
    public Pair serving(String name, List<String> dnsNames, List<String> ipAddresses) {
        return issue(name, new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, name).build(),
                dnsNames, ipAddresses, KeyPurposeId.id_kp_serverAuth);
    }

    /** A client certificate authenticating as {@code user} in {@code groups} (the subject's O entries). */
    public Pair client(String fileName, String user, List<String> groups) {
        X500NameBuilder subject = new X500NameBuilder(BCStyle.INSTANCE);
        for (String group : groups) {
            subject.addRDN(BCStyle.O, group);
        }
        subject.addRDN(BCStyle.CN, user);
        return issue(fileName, subject.build(), List.of(), List.of(), KeyPurposeId.id_kp_clientAuth);
    }

    /** The key pair that signs service-account tokens: {@code sa.key} (private) and {@code sa.pub}. */
    public Pair serviceAccountKey() {
        try {
            KeyPair key = newKey();
            writePrivateKey("sa.key", key);
            writePem("sa.pub", key.getPublic());
            return new Pair(dir.resolve("sa.pub"), dir.resolve("sa.key"));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private Pair issue(String fileName, X500Name subject, List<String> dnsNames, List<String> ips, KeyPurposeId usage) {
        try {
            KeyPair key = newKey();
            Instant now = Instant.now();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(caCert, serial(), Date.from(now.minusSeconds(60)),
                    Date.from(now.plus(LIFETIME)), subject, key.getPublic());
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
            b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(usage));
            b.addExtension(Extension.authorityKeyIdentifier, false,
                    new JcaX509ExtensionUtils().createAuthorityKeyIdentifier(caCert));
            List<GeneralName> names = new ArrayList<>();
            dnsNames.forEach(d -> names.add(new GeneralName(GeneralName.dNSName, d)));
            for (String ip : ips) {
                names.add(new GeneralName(GeneralName.iPAddress, InetAddress.getByName(ip).getHostAddress()));
            }
            if (!names.isEmpty()) {
                b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(GeneralName[]::new)));
            }
            X509Certificate cert = sign(b, caKey);
            writePem(fileName + ".crt", cert);
            writePrivateKey(fileName + ".key", key);
            return new Pair(dir.resolve(fileName + ".crt"), dir.resolve(fileName + ".key"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, KeyPair signer) throws GeneralSecurityException {
        try {
            return new JcaX509CertificateConverter().getCertificate(
                    builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate())));
        } catch (org.bouncycastle.operator.OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }

    private static KeyPair newKey() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        return g.generateKeyPair();
    }

    private static BigInteger serial() {
        return new BigInteger(127, RANDOM);
    }

    /** PKCS#8, which Go's TLS stack, kubectl and Fabric8 all read for EC keys. */
    private void writePrivateKey(String file, KeyPair key) {
        try {
            writePem(file, new JcaPKCS8Generator(key.getPrivate(), null).generate());
        } catch (org.bouncycastle.util.io.pem.PemGenerationException e) {
            throw new IllegalStateException(e);
        }
    }

    private void writePem(String file, Object object) {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter pem = new JcaPEMWriter(out)) {
            pem.writeObject(object);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            Path path = dir.resolve(file);
            Files.writeString(path, out.toString());
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A certificate (or public key) file and its private key file. */
    public record Pair(Path certificate, Path key) {
    }
}
