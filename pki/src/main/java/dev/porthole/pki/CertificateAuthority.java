package dev.porthole.pki;

import dev.porthole.protocol.pki.AgentIdentity;
import dev.porthole.protocol.pki.ClientIdentity;
import dev.porthole.protocol.pki.IdentityUri;
import dev.porthole.protocol.pki.KeyMaterial;
import dev.porthole.protocol.pki.Pem;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.DERUTF8String;
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
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.PKCSException;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.bouncycastle.util.IPAddress;

/**
 * The Porthole certificate authority: an EC P-256 CA that issues the relay's serving certificate and
 * short-lived client certificates bound to one forward. The operator uses it as its CSR signer.
 *
 * <pre>{@code
 * CertificateAuthority ca = CertificateAuthority.create("porthole-ca", Duration.ofDays(365));
 * KeyMaterial relay = ca.issueServerCertificate("porthole-relay", List.of("relay.porthole.svc", "127.0.0.1"), Duration.ofDays(30));
 * X509Certificate client = ca.issueClientCertificate(csrPem,
 *         new ClientIdentity("alice@example.com", List.of("sre"), "shop/orders-db", forwardUid, expiresAt));
 * }</pre>
 */
public final class CertificateAuthority {

    private static final String SIGNATURE_ALGORITHM = "SHA256withECDSA";
    private static final Duration CLOCK_SKEW = Duration.ofMinutes(5);
    private static final SecureRandom RANDOM = new SecureRandom();
    static final String OPAQUE_DISPLAY_NAME = "porthole-client";

    private final KeyMaterial keyMaterial;
    private final Clock clock;

    private CertificateAuthority(KeyMaterial keyMaterial, Clock clock) {
        this.keyMaterial = keyMaterial;
        this.clock = clock;
    }

    /** Creates a new self-signed CA valid from now for {@code validity}. */
    public static CertificateAuthority create(String commonName, Duration validity) {
        return create(commonName, validity, Clock.systemUTC());
    }

    public static CertificateAuthority create(String commonName, Duration validity, Clock clock) {
        KeyPair keyPair = generateKeyPair();
        Instant now = clock.instant();
        X500Name name = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, commonName).build();
        try {
            JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, serial(),
                    Date.from(now.minus(CLOCK_SKEW)), Date.from(now.plus(validity)), name, keyPair.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(Extension.subjectKeyIdentifier, false,
                            utils.createSubjectKeyIdentifier(keyPair.getPublic()));
            X509Certificate certificate = sign(builder, keyPair.getPrivate());
            return new CertificateAuthority(new KeyMaterial(keyPair.getPrivate(), List.of(certificate)), clock);
        } catch (GeneralSecurityException | CertIOException e) {
            throw new IllegalStateException("cannot create CA: " + e.getMessage(), e);
        }
    }

    /** Loads an existing CA (e.g. from the operator's Secret). */
    public static CertificateAuthority fromPem(String certificatePem, String privateKeyPem) {
        return new CertificateAuthority(KeyMaterial.fromPem(certificatePem, privateKeyPem), Clock.systemUTC());
    }

    /** The same CA reading time from {@code clock}. */
    public CertificateAuthority withClock(Clock clock) {
        return new CertificateAuthority(keyMaterial, clock);
    }

    public X509Certificate certificate() {
        return keyMaterial.certificate();
    }

    /** The CA's key and certificate, e.g. to store them: {@code certificateChainPem()}, {@code privateKeyPem()}. */
    public KeyMaterial keyMaterial() {
        return keyMaterial;
    }

    /**
     * Issues a serving certificate with a fresh key. Each subject alternative name is an IP address if it
     * parses as one, else a DNS name.
     */
    public KeyMaterial issueServerCertificate(String commonName, List<String> subjectAltNames, Duration validity) {
        KeyPair keyPair = generateKeyPair();
        List<GeneralName> names = new ArrayList<>();
        for (String san : subjectAltNames) {
            names.add(IPAddress.isValid(san) ? new GeneralName(GeneralName.iPAddress, san)
                    : new GeneralName(GeneralName.dNSName, san));
        }
        Instant now = clock.instant();
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, commonName).build();
        X509Certificate certificate = issue(subject, keyPair.getPublic(), now.minus(CLOCK_SKEW), now.plus(validity),
                KeyPurposeId.id_kp_serverAuth, new GeneralNames(names.toArray(GeneralName[]::new)));
        return new KeyMaterial(keyPair.getPrivate(), List.of(certificate, certificate()));
    }

    /**
     * Issues a client certificate for {@code publicKey} carrying {@code identity} as its {@link IdentityUri}
     * SAN, valid until its notAfter. The subject is a display form only ({@link #displayName}); nothing
     * reads identity from it.
     */
    public X509Certificate issueClientCertificate(PublicKey publicKey, ClientIdentity identity) {
        // the value is given as ASN.1, never as a string a DN parser would interpret
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE)
                .addRDN(BCStyle.CN, new DERUTF8String(displayName(identity.username()))).build();
        Instant notBefore = min(clock.instant(), identity.notAfter()).minus(CLOCK_SKEW);
        return issue(subject, publicKey, notBefore, identity.notAfter(), KeyPurposeId.id_kp_clientAuth,
                new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, identity.uri())));
    }

    /**
     * Issues an agent certificate with a fresh key: the {@link AgentIdentity} URI SAN, server authentication, valid
     * until the identity's notAfter (the forward's expiry). The agent presents it to clients at the end-to-end TLS
     * handshake; the relay never sees its key.
     */
    public KeyMaterial issueAgentCertificate(AgentIdentity identity) {
        KeyPair keyPair = generateKeyPair();
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, "porthole-agent").build();
        Instant notBefore = min(clock.instant(), identity.notAfter()).minus(CLOCK_SKEW);
        X509Certificate certificate = issue(subject, keyPair.getPublic(), notBefore, identity.notAfter(),
                KeyPurposeId.id_kp_serverAuth,
                new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, identity.uri())));
        return new KeyMaterial(keyPair.getPrivate(), List.of(certificate, certificate()));
    }

    /**
     * The subject CN of a client certificate: the user name when it is plain ASCII that no DN printer
     * escapes and fits a CN (64 characters), else {@value #OPAQUE_DISPLAY_NAME}, so that no one is tempted
     * to read a rewritten name from it.
     */
    static String displayName(String username) {
        return username.matches("[A-Za-z0-9@._:-]{1,64}") ? username : OPAQUE_DISPLAY_NAME;
    }

    /**
     * Issues a client certificate for the key of a PKCS#10 request after checking the request's signature.
     * The request's own subject is ignored: the identity comes from {@code identity} (for the operator,
     * from what the API server stamped on the CertificateSigningRequest).
     */
    public X509Certificate issueClientCertificate(PKCS10CertificationRequest request, ClientIdentity identity) {
        try {
            JcaPKCS10CertificationRequest jca = new JcaPKCS10CertificationRequest(request);
            if (!request.isSignatureValid(new JcaContentVerifierProviderBuilder().build(jca.getPublicKey()))) {
                throw new IllegalArgumentException("certificate request signature does not verify");
            }
            return issueClientCertificate(jca.getPublicKey(), identity);
        } catch (GeneralSecurityException | OperatorCreationException | PKCSException e) {
            throw new IllegalArgumentException("invalid certificate request: " + e.getMessage(), e);
        }
    }

    /** {@link #issueClientCertificate(PKCS10CertificationRequest, ClientIdentity)} for a PEM request. */
    public X509Certificate issueClientCertificate(String certificationRequestPem, ClientIdentity identity) {
        return issueClientCertificate(CertificationRequests.read(certificationRequestPem), identity);
    }

    /** A fresh EC P-256 key pair. */
    public static KeyPair generateKeyPair() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("EC P-256 unavailable", e);
        }
    }

    /** A PKCS#10 request for {@code keyPair} with subject CN={@code commonName}, as a client sends it. */
    public static PKCS10CertificationRequest createCertificationRequest(KeyPair keyPair, String commonName) {
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, commonName).build();
        try {
            ContentSigner signer = new JcaContentSignerBuilder(SIGNATURE_ALGORITHM).build(keyPair.getPrivate());
            return new JcaPKCS10CertificationRequestBuilder(subject, keyPair.getPublic()).build(signer);
        } catch (OperatorCreationException e) {
            throw new IllegalStateException("cannot sign certificate request", e);
        }
    }

    private X509Certificate issue(X500Name subject, PublicKey publicKey, Instant notBefore, Instant notAfter,
                                  KeyPurposeId purpose, GeneralNames subjectAltNames) {
        try {
            JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(certificate(), serial(),
                    Date.from(notBefore), Date.from(notAfter), subject, publicKey)
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                    .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose))
                    .addExtension(Extension.subjectAlternativeName, false, subjectAltNames)
                    .addExtension(Extension.authorityKeyIdentifier, false,
                            utils.createAuthorityKeyIdentifier(certificate()))
                    .addExtension(Extension.subjectKeyIdentifier, false, utils.createSubjectKeyIdentifier(publicKey));
            return sign(builder, keyMaterial.privateKey());
        } catch (GeneralSecurityException | CertIOException e) {
            throw new IllegalStateException("cannot issue certificate: " + e.getMessage(), e);
        }
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey key)
            throws GeneralSecurityException {
        try {
            ContentSigner signer = new JcaContentSignerBuilder(SIGNATURE_ALGORITHM).build(key);
            return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }

    private static BigInteger serial() {
        return new BigInteger(127, RANDOM).add(BigInteger.ONE);
    }

    private static Instant min(Instant a, Instant b) {
        return a.isBefore(b) ? a : b;
    }
}
