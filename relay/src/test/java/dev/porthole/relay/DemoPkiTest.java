package dev.porthole.relay;

import dev.porthole.protocol.ForwardRef;
import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.protocol.pki.ClientIdentity;
import dev.porthole.protocol.pki.Pem;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
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

    private static StaticForwards forwards(Path dir) throws Exception {
        Properties p = new Properties();
        try (Reader reader = Files.newBufferedReader(dir.resolve("relay.properties"))) {
            p.load(reader);
        }
        return StaticForwards.fromProperties(p, Clock.systemUTC());
    }
}
