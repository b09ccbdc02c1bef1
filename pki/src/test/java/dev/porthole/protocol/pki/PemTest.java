package dev.porthole.protocol.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.porthole.pki.CertificateAuthority;
import dev.porthole.pki.PemKeys;
import java.security.interfaces.ECPrivateKey;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The JDK-only PEM of tunnel-protocol (what the agent uses), checked against Bouncy Castle's reading and writing. */
class PemTest {
    private final CertificateAuthority ca = CertificateAuthority.create("test-ca", Duration.ofDays(1));

    @Test
    @DisplayName("a certificate chain and a PKCS#8 key written by the JDK read back identical, by the JDK and by Bouncy Castle")
    void roundTrip() {
        // given
        KeyMaterial relay = ca.issueServerCertificate("relay", List.of("relay.example", "127.0.0.1"), Duration.ofHours(1));

        // when
        String chain = Pem.write(relay.chain());
        String key = Pem.write(relay.privateKey());

        // then
        assertThat(Pem.readCertificates(chain)).isEqualTo(relay.chain());
        assertThat(Pem.readPrivateKey(key)).isEqualTo(relay.privateKey());
        assertThat(PemKeys.readPrivateKey(key)).isEqualTo(relay.privateKey());
        assertThat(chain).startsWith("-----BEGIN CERTIFICATE-----\n").endsWith("-----END CERTIFICATE-----\n");
        assertThat(chain.lines().filter(l -> !l.startsWith("-----"))).allSatisfy(l -> assertThat(l.length()).isLessThanOrEqualTo(64));
    }

    @Test
    @DisplayName("a SEC1 key (openssl ecparam -genkey) is read by PemKeys as the same key as its PKCS#8 form; the JDK-only reader says how to convert it")
    void sec1Key() throws Exception {
        // given: a throw-away test key written by openssl, in both forms (openssl pkcs8 -topk8 -nocrypt)
        String sec1 = resource("/sec1-test-key.pem");
        String pkcs8 = resource("/sec1-test-key.pkcs8.pem");
        assertThat(sec1).contains("BEGIN EC PRIVATE KEY");

        // then
        // the same secret scalar (the encodings differ: openssl's PKCS#8 also embeds the public point)
        assertThat(((ECPrivateKey) PemKeys.readPrivateKey(sec1)).getS()).isEqualTo(((ECPrivateKey) Pem.readPrivateKey(pkcs8)).getS());
        assertThatThrownBy(() -> Pem.readPrivateKey(sec1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("openssl pkcs8 -topk8 -nocrypt");
    }

    private static String resource(String name) throws Exception {
        try (var in = PemTest.class.getResourceAsStream(name)) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
        }
    }

    @Test
    @DisplayName("input with no certificate, or a damaged one, is refused with a clear message")
    void badInput() {
        assertThatThrownBy(() -> Pem.readCertificates("hello")).hasMessage("no certificate in PEM input");
        assertThatThrownBy(() -> Pem.readCertificate("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("invalid certificate");
    }
}
