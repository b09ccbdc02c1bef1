package dev.porthole.operator.identity;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.pki.CertificateAuthority;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CertificateRequestCheckTest {

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', value = {
        "client auth",
        "client auth,digital signature",
        "digital signature,client auth",
    })
    @DisplayName("client auth, alone or with digital signature, is accepted")
    void clientUsagesAccepted(String usages) {
        // given / when / then
        assertThat(CertificateRequestCheck.usageRefusal(List.of(usages.split(",")))).isNull();
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', value = {
        "client auth,server auth | server auth",
        "server auth | server auth",
        "client auth,key encipherment,cert sign | key encipherment, cert sign",
        "digital signature,client auth,any | any",
        "Client Auth | Client Auth",
    })
    @DisplayName("any usage beyond client auth and digital signature is refused, naming it")
    void otherUsagesRefused(String usages, String named) {
        // given / when
        String refusal = CertificateRequestCheck.usageRefusal(Arrays.asList(usages.split(",")));

        // then
        assertThat(refusal).isEqualTo("the request asks for usages a Porthole client certificate never has: " + named
                + "; only 'client auth' and 'digital signature' may be requested");
    }

    @Test
    @DisplayName("a request without client auth is refused, also when it names no usage at all")
    void clientAuthRequired() {
        // given / when / then
        assertThat(CertificateRequestCheck.usageRefusal(List.of("digital signature")))
                .isEqualTo("the request must ask for usage 'client auth'");
        assertThat(CertificateRequestCheck.usageRefusal(List.of())).isEqualTo("the request must ask for usage 'client auth'");
        assertThat(CertificateRequestCheck.usageRefusal(null)).isEqualTo("the request must ask for usage 'client auth'");
    }

    @Test
    @DisplayName("the CLI's request (EC P-256) passes the key check")
    void p256Accepted() {
        // given
        PKCS10CertificationRequest cli = CertificateAuthority.createCertificationRequest(
                CertificateAuthority.generateKeyPair(), "porthole-client");

        // when / then
        assertThat(CertificateRequestCheck.keyRefusal(cli)).isNull();
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', value = {
        "RSA     | 2048      | SHA256withRSA   | RSA",
        "EC      | secp384r1 | SHA384withECDSA | EC on curve secp384r1",
        "EC      | secp521r1 | SHA512withECDSA | EC on curve secp521r1",
        "Ed25519 |           | Ed25519         | Ed25519",
    })
    @DisplayName("any other key is refused, naming its type")
    void otherKeysRefused(String algorithm, String parameter, String signature, String named) throws Exception {
        // given
        KeyPairGenerator generator = KeyPairGenerator.getInstance(algorithm);
        if ("RSA".equals(algorithm)) {
            generator.initialize(Integer.parseInt(parameter));
        } else if ("EC".equals(algorithm)) {
            generator.initialize(new ECGenParameterSpec(parameter));
        }
        KeyPair keys = generator.generateKeyPair();
        PKCS10CertificationRequest request = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=x"), keys.getPublic())
                .build(new JcaContentSignerBuilder(signature).build(keys.getPrivate()));

        // when / then
        assertThat(CertificateRequestCheck.keyRefusal(request))
                .isEqualTo("the request's key is " + named + "; Porthole client certificates need an EC P-256 (secp256r1) key");
    }
}
