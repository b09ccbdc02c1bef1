package dev.porthole.protocol.pki;

import dev.porthole.protocol.ForwardRef;
import dev.porthole.pki.CertificateAuthority;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.SignatureException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.stream.Stream;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class ClientIdentityTest {

    private static final CertificateAuthority CA = CertificateAuthority.create("porthole-test-ca", Duration.ofDays(1));
    private static final String UID = "6f1d6c2e-0b7a-4f57-9a55-3f0c5b1f4e21";
    private static final String BASE = "porthole://shop/db?uid=" + UID;

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {
        "alice,O=system:masters",
        "alice+CN=bob",
        "o'brien, +ops\\#=\"<x>;",
        " leading space",
        "trailing space ",
        "  ",
        "#616c696365",
        "\\61lice",
        "José Müller",
        "Jose\u0301 Mu\u0308ller",
        "渡辺",
        "🚀 launch",
        "\u202Eecila",
    })
    @DisplayName("user and group names come back from a certificate exactly as they went in")
    void namesRoundTrip(String name) {
        // given
        ClientIdentity identity = new ClientIdentity(name, List.of(name, "g=" + name + ",", "sre-oncall"), ForwardRef.parse("shop/db"), UID,
                Instant.now().plus(Duration.ofMinutes(10)).truncatedTo(ChronoUnit.SECONDS));

        // when
        ClientIdentity read = ClientIdentity.fromCertificate(reparsed(issue(identity)));

        // then
        assertThat(read).isEqualTo(identity);
        assertThat(read.username().getBytes(StandardCharsets.UTF_8)).isEqualTo(name.getBytes(StandardCharsets.UTF_8));
        assertThat(read.groups().get(1)).isEqualTo("g=" + name + ",");
    }

    @Test
    @DisplayName("a crafted 'alice,O=system:masters' reads back as exactly itself: not alice, and in no extra group")
    void craftedNameIsItself() {
        // given
        ClientIdentity crafted = identity("alice,O=system:masters", List.of("dev-team"));

        // when
        ClientIdentity read = ClientIdentity.fromCertificate(issue(crafted));

        // then
        assertThat(read.username()).isEqualTo("alice,O=system:masters");
        assertThat(read.groups()).containsExactly("dev-team");
    }

    @Test
    @DisplayName("'#0c05616c696365', which a DN parser turns into 'alice', reads back as exactly itself")
    void hexLookalikeIsItself() {
        // given: what the subject DN did with it (the reason identity left the subject)
        String name = "#0c05616c696365";
        X500Name asSubject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, name).build();
        assertThat(IETFUtils.valueToString(asSubject.getRDNs(BCStyle.CN)[0].getFirst().getValue())).isEqualTo("alice");

        // when
        ClientIdentity read = ClientIdentity.fromCertificate(issue(identity(name, List.of(name))));

        // then
        assertThat(read.username()).isEqualTo(name);
        assertThat(read.groups()).containsExactly(name);
    }

    @Test
    @DisplayName("the subject is a display form: a name DN printers would rewrite is replaced, a plain one kept")
    void subjectIsDisplayOnly() {
        // given / when
        X509Certificate crafted = issue(identity("alice,O=system:masters", List.of("system:masters")));
        X509Certificate plain = issue(identity("alice@example.com", List.of("sre")));

        // then
        assertThat(crafted.getSubjectX500Principal().getName()).isEqualTo("CN=porthole-client");
        assertThat(plain.getSubjectX500Principal().getName()).isEqualTo("CN=alice@example.com");
    }

    @Test
    @DisplayName("the subject is never read: CN=admin, O=system:masters over an identity URI for alice is alice")
    void subjectNeverRead() {
        // given
        X509Certificate certificate = HandMadeCertificates.signedBy(CA, "CN=admin,O=system:masters",
                List.of(BASE + "&user=alice&group=sre"));

        // when
        ClientIdentity read = ClientIdentity.fromCertificate(certificate);

        // then
        assertThat(read.username()).isEqualTo("alice");
        assertThat(read.groups()).containsExactly("sre");
    }

    @Test
    @DisplayName("the identity URI is percent-encoded UTF-8, in order, readable for plain names")
    void uriFormat() throws Exception {
        // given / when
        X509Certificate certificate = issue(identity("José Müller", List.of("sre-oncall", "a&b=c", "")));

        // then
        assertThat(certificate.getSubjectAlternativeNames()).extracting(san -> (Object) san.get(1)).containsExactly(
                BASE + "&user=Jos%C3%A9%20M%C3%BCller&group=sre-oncall&group=a%26b%3Dc&group=");
    }

    @Test
    @DisplayName("the certificate carries the forward's uid")
    void carriesForwardUid() {
        // given / when
        ClientIdentity read = ClientIdentity.fromCertificate(issue(identity("alice", List.of())));

        // then
        assertThat(read.forwardUid()).isEqualTo(UID);
        assertThat(read.forward()).isEqualTo(ForwardRef.parse("shop/db"));
    }

    @Test
    @DisplayName("a certificate without an identity URI is refused, whatever its subject says")
    void missingIdentityRefused() {
        // given
        X509Certificate certificate = HandMadeCertificates.signedBy(CA, "CN=alice,O=sre", List.of("https://example.com/alice"));

        // when / then
        assertThatThrownBy(() -> ClientIdentity.fromCertificate(certificate))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("exactly one porthole:// URI SAN").hasMessageContaining("carries 0");
    }

    @Test
    @DisplayName("a certificate with two identity URIs is refused rather than one of them picked")
    void twoIdentitiesRefused() {
        // given
        X509Certificate certificate = HandMadeCertificates.signedBy(CA, "CN=alice",
                List.of(BASE + "&user=alice", BASE + "&user=admin&group=system%3Amasters"));

        // when / then
        assertThatThrownBy(() -> ClientIdentity.fromCertificate(certificate))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("carries 2");
    }

    static Stream<Arguments> malformedUris() {
        return Stream.of(
                Arguments.of("the bare forward of older certificates", "porthole://shop/db", "carries no identity"),
                Arguments.of("no uid", "porthole://shop/db?user=alice", "uid=, then user="),
                Arguments.of("no user", "porthole://shop/db?uid=" + UID, "uid=, then user="),
                Arguments.of("user before uid", "porthole://shop/db?user=alice&uid=" + UID, "uid=, then user="),
                Arguments.of("unknown parameter", BASE + "&user=alice&role=admin", "parameter #3 is not group="),
                Arguments.of("second user", BASE + "&user=alice&user=admin", "parameter #3 is not group="),
                Arguments.of("fragment", BASE + "&user=alice#admin", "character that must be percent-encoded"),
                Arguments.of("raw reserved character", BASE + "&user=alice,O=system:masters", "character that must be percent-encoded"),
                // not even a URI: the JDK drops the SAN, so the certificate carries no identity at all
                Arguments.of("raw space", BASE + "&user=alice smith", "carries 0"),
                Arguments.of("truncated escape", BASE + "&user=alice%2", "carries 0"),
                Arguments.of("lower-case hex", BASE + "&user=alice%2csmith", "bad %XX"),
                Arguments.of("escaped unreserved character", BASE + "&user=%61lice", "not in canonical form"),
                Arguments.of("invalid UTF-8", BASE + "&user=a%C3%28", "user is not valid UTF-8"),
                Arguments.of("overlong UTF-8", BASE + "&user=%C0%AFetc", "user is not valid UTF-8"),
                Arguments.of("encoded lone surrogate", BASE + "&user=a%ED%A0%80", "user is not valid UTF-8"),
                Arguments.of("NUL in the user name", BASE + "&user=alice%00admin", "control character U+0000"),
                Arguments.of("line break in a group", BASE + "&user=alice&group=a%0Ab", "group #1 contains the control character U+000A"),
                Arguments.of("empty user name", BASE + "&user=", "the user name is empty"),
                Arguments.of("empty uid", "porthole://shop/db?uid=&user=alice", "forward uid"),
                Arguments.of("bad forward", "porthole://Shop/db?uid=" + UID + "&user=alice", "forward must be NAMESPACE/NAME"));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("malformedUris")
    @DisplayName("a CA-signed certificate whose identity URI is malformed or not canonical is refused, saying why")
    void malformedUriRefused(String what, String uri, String message) {
        // given
        X509Certificate certificate = HandMadeCertificates.signedBy(CA, "CN=alice", List.of(uri));

        // when / then
        assertThatThrownBy(() -> ClientIdentity.fromCertificate(certificate))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message);
    }

    @Test
    @DisplayName("the identity URI reader itself refuses what is not a URI, not only the JDK")
    void readerRefusesNonUris() {
        // given / when / then
        assertThatThrownBy(() -> IdentityUri.parse(BASE + "&user=alice smith"))
                .hasMessageContaining("user has a character that must be percent-encoded, or a bad %XX, at index 5");
        assertThatThrownBy(() -> IdentityUri.parse(BASE + "&user=alice%2")).hasMessageContaining("bad %XX");
        assertThatThrownBy(() -> IdentityUri.parse(BASE + "&user=ali\u00e9")).hasMessageContaining("must be percent-encoded");
    }

    @Test
    @DisplayName("changing one byte of the identity in an issued certificate breaks the CA's signature")
    void tamperedIdentityBreaksSignature() throws Exception {
        // given: a name the subject does not show, so its only copy is the one in the identity URI
        byte[] der = issue(identity("alice smith", List.of("sre"))).getEncoded();
        int at = indexOf(der, "user=alice%20smith".getBytes(StandardCharsets.US_ASCII));
        der[at + 9] = 'x';

        // when
        X509Certificate tampered = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(der));

        // then
        assertThat(ClientIdentity.fromCertificate(tampered).username()).isEqualTo("alicx smith");
        assertThatThrownBy(() -> tampered.verify(CA.certificate().getPublicKey())).isInstanceOf(SignatureException.class);
    }

    @Test
    @DisplayName("an identity whose names cannot round-trip is never issued")
    void unrepresentableNamesNotIssued() {
        // given / when / then
        assertThatThrownBy(() -> identity("alice\uD800", List.of())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("lone UTF-16 surrogate");
        assertThatThrownBy(() -> identity("alice", List.of("ok", "bad\nline"))).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("group #2 contains the control character U+000A at index 3");
        assertThatThrownBy(() -> new ClientIdentity("alice", List.of(), ForwardRef.parse("shop/db"), "not a uid!", Instant.now()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("forward uid");
    }

    private static ClientIdentity identity(String username, List<String> groups) {
        return new ClientIdentity(username, groups, ForwardRef.parse("shop/db"), UID, Instant.now().plus(Duration.ofMinutes(10)));
    }

    private static X509Certificate issue(ClientIdentity identity) {
        return CA.issueClientCertificate(CertificateAuthority.generateKeyPair().getPublic(), identity);
    }

    /** Through PEM and the JDK's parser, as the relay receives it. */
    private static X509Certificate reparsed(X509Certificate certificate) {
        return Pem.readCertificate(Pem.write(certificate));
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found");
    }
}
