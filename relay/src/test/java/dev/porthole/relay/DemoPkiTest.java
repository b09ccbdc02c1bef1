package dev.porthole.relay;

import dev.porthole.protocol.ForwardRef;
import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.protocol.pki.AgentIdentity;
import dev.porthole.protocol.pki.ClientIdentity;
import dev.porthole.protocol.pki.KeyMaterial;
import dev.porthole.protocol.pki.Pem;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Properties;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoPkiTest {

    @Test
    @DisplayName("demo-pki binds its client certificate to the uid its config gives the forward; a rerun's new uid refuses it")
    void demoPkiCertificateFitsItsConfigOnly(@TempDir Path first, @TempDir Path second) throws Exception {
        // given
        RelayMain.main(new String[] {"demo-pki", first.toString(), "--forward", "shop/web", "--user", "alice"});
        RelayMain.main(new String[] {"demo-pki", second.toString(), "--forward", "shop/web", "--user", "alice"});
        ClientIdentity firstClient = ClientIdentity.fromCertificate(Pem.readCertificate(Pem.readFile(first.resolve("client.pem"))));

        // when
        Decision own = forwards(first).authorize(firstClient, ForwardRef.parse("shop/web"), null);
        Decision rerun = forwards(second).authorize(firstClient, ForwardRef.parse("shop/web"), null);

        // then
        assertThat(own.allowed()).as(own.reason()).isTrue();
        assertThat(rerun.allowed()).isFalse();
        assertThat(rerun.reason()).isEqualTo("certificate was issued for an earlier forward named shop/web (uid "
                + firstClient.forwardUid() + "); request a new one");
    }

    @Test
    @DisplayName("demo-pki writes the agent certificate for the forward and uid of its config, until the forward's expiry, with its key")
    void demoPkiAgentCertificate(@TempDir Path dir) throws Exception {
        // given
        RelayMain.main(new String[] {"demo-pki", dir.toString(), "--forward", "shop/web", "--user", "alice", "--ttl", "2h"});
        Properties config = properties(dir);
        X509Certificate ca = Pem.readCertificate(Pem.readFile(dir.resolve("ca.pem")));

        // when
        KeyMaterial agent = KeyMaterial.fromFiles(dir.resolve("agent.pem"), dir.resolve("agent-key.pem"));

        // then
        assertThat(AgentIdentity.fromCertificate(agent.certificate())).isEqualTo(new AgentIdentity(
                ForwardRef.parse("shop/web"), config.getProperty("forward.shop/web.uid"),
                Instant.parse(config.getProperty("forward.shop/web.expires-at"))));
        assertThat(Duration.between(Instant.now(), agent.certificate().getNotAfter().toInstant()))
                .isBetween(Duration.ofMinutes(119), Duration.ofHours(2));
        agent.certificate().verify(ca.getPublicKey());
        assertThat(agent.chain()).last().isEqualTo(ca);
        byte[] probe = "porthole".getBytes(StandardCharsets.US_ASCII);
        Signature signer = Signature.getInstance("SHA256withECDSA");
        signer.initSign(agent.privateKey());
        signer.update(probe);
        Signature verifier = Signature.getInstance("SHA256withECDSA");
        verifier.initVerify(agent.certificate().getPublicKey());
        verifier.update(probe);
        assertThat(verifier.verify(signer.sign())).as("agent-key.pem is the key of agent.pem").isTrue();
    }

    private static Properties properties(Path dir) throws Exception {
        Properties p = new Properties();
        try (Reader reader = Files.newBufferedReader(dir.resolve("relay.properties"))) {
            p.load(reader);
        }
        return p;
    }

    private static StaticForwards forwards(Path dir) throws Exception {
        return StaticForwards.fromProperties(properties(dir), Clock.systemUTC());
    }
}
