package dev.porthole.protocol.pki;

import dev.porthole.protocol.ForwardRef;
import dev.porthole.pki.CertificateAuthority;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class IdentityNamesTest {

    @ParameterizedTest(name = "[{index}] U+{0}")
    @CsvSource({"0000", "0009", "000A", "000D", "001B", "007F", "0085", "009F"})
    @DisplayName("a control character anywhere in a name is refused, naming it and where it is")
    void controlCharactersRefused(String hex) {
        // given
        String name = "ali" + Character.toString(Integer.parseInt(hex, 16)) + "ce";

        // when / then
        assertThat(IdentityNames.problem(name, List.of()))
                .isEqualTo("the user name contains the control character U+" + hex + " at index 3");
        assertThat(IdentityNames.problem("alice", List.of("sre", name)))
                .isEqualTo("group #2 contains the control character U+" + hex + " at index 3");
    }

    @Test
    @DisplayName("lone UTF-16 surrogates, high or low, have no UTF-8 encoding and are refused; a pair is fine")
    void loneSurrogatesRefused() {
        // given / when / then
        assertThat(IdentityNames.problem("a\uD83D", List.of()))
                .isEqualTo("the user name contains a lone UTF-16 surrogate U+D83D at index 1, which has no UTF-8 encoding");
        assertThat(IdentityNames.problem("a\uDE80b", List.of())).contains("lone UTF-16 surrogate U+DE80 at index 1");
        assertThat(IdentityNames.problem("\uDE80\uD83D", List.of())).contains("U+DE80 at index 0");
        assertThat(IdentityNames.problem("a\uD83D\uDE80", List.of())).isNull();
    }

    @Test
    @DisplayName("an empty or missing user name is refused; an empty group is carried")
    void emptyNames() {
        // given / when / then
        assertThat(IdentityNames.problem("", List.of())).isEqualTo("the user name is empty");
        assertThat(IdentityNames.problem(null, List.of())).isEqualTo("the user name is empty");
        assertThat(IdentityNames.problem("alice", Collections.singletonList(null))).isEqualTo("group #1 is missing");
        assertThat(IdentityNames.problem("alice", List.of(""))).isNull();
    }

    @Test
    @DisplayName("a name may be 1024 bytes of UTF-8 and no more, counted in bytes, not characters")
    void nameLength() {
        // given
        String fits = "é".repeat(512);
        String over = "é".repeat(512) + "x";

        // when / then
        assertThat(IdentityNames.problem(fits, List.of())).isNull();
        assertThat(IdentityNames.problem(over, List.of()))
                .isEqualTo("the user name is 1025 bytes of UTF-8; at most 1024 are allowed");
        assertThat(IdentityNames.problem("alice", List.of(over))).startsWith("group #1 is 1025 bytes");
    }

    @Test
    @DisplayName("at most 256 groups, and at most 16 KiB for all names as they are encoded in the certificate")
    void groupLimits() {
        // given
        List<String> many = new ArrayList<>();
        for (int i = 0; i < 257; i++) {
            many.add("g" + i);
        }
        // 16 groups of 1000 unreserved characters: 16 * (7 + 1000) + 6 + 5 = 16123 characters, fits
        List<String> ascii = Collections.nCopies(16, "x".repeat(1000));
        // the same count of bytes as spaces, each of which takes 3 characters
        List<String> spaces = Collections.nCopies(16, " ".repeat(1000));

        // when / then
        assertThat(IdentityNames.problem("alice", many.subList(0, 256))).isNull();
        assertThat(IdentityNames.problem("alice", many)).isEqualTo("the user is in 257 groups; a certificate carries at most 256");
        assertThat(IdentityNames.problem("alice", ascii)).isNull();
        assertThat(IdentityNames.problem("alice", spaces))
                .isEqualTo("the user and group names take 48123 characters in a certificate; at most 16384 fit");
    }

    @Test
    @DisplayName("a refused name is shown with its control characters and lone surrogates escaped, and cut short")
    void refusedNamesEscaped() {
        // given / when / then
        assertThat(IdentityNames.escaped("eve\nINFO forged\u0000")).isEqualTo("eve\\u000AINFO forged\\u0000");
        assertThat(IdentityNames.escaped("a\uD800b🚀")).isEqualTo("a\\uD800b🚀");
        assertThat(IdentityNames.escaped("x".repeat(150))).isEqualTo("x".repeat(100) + "…");
    }

    @Test
    @DisplayName("the largest identity allowed still makes a certificate the relay can read")
    void largestIdentityIssues() throws Exception {
        // given: names that take the most room allowed: "&user=alice" + 15 * "&group=<1024>" + "&group=<901>"
        List<String> groups = new ArrayList<>(Collections.nCopies(15, "g".repeat(1024)));
        groups.add("g".repeat(901));
        assertThat(IdentityUri.encodedLength("alice", groups)).isEqualTo(IdentityNames.MAX_ENCODED_CHARS);
        ClientIdentity identity = new ClientIdentity("alice", groups, ForwardRef.parse("shop/db"), "uid-1",
                java.time.Instant.now().plusSeconds(60).truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
        CertificateAuthority ca = CertificateAuthority.create("ca", java.time.Duration.ofDays(1));

        // when
        var certificate = Pem.readCertificate(Pem.write(ca.issueClientCertificate(
                CertificateAuthority.generateKeyPair().getPublic(), identity)));

        // then
        assertThat(ClientIdentity.fromCertificate(certificate)).isEqualTo(identity);
        assertThat(certificate.getEncoded().length).isLessThan(20 * 1024);
    }
}
