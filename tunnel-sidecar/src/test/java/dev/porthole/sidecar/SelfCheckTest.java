package dev.porthole.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.protocol.tls.SelfCheck;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class SelfCheckTest {

    @Test
    @DisplayName("--self-check: with netty-tcnative on the class path TLS runs on BoringSSL, and the report says so")
    void reportsOpenSsl() {
        // given
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();

        // when
        int exit = SelfCheck.run(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));

        // then
        assertThat(exit).isZero();
        assertThat(err.toString(StandardCharsets.UTF_8)).isEmpty();
        assertThat(out.toString(StandardCharsets.UTF_8).strip())
                .matches("tls=OPENSSL openssl=BoringSSL context=ok epoll=absent library=/\\S*netty_tcnative\\S*\\.so( \\(deleted\\))?");
    }

    @Test
    @DisplayName("--self-check fails, naming the reason, when the JDK provider is forced")
    void failsOnJdkTls() {
        // given
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setProperty("porthole.tls.provider", "jdk");
        try {
            // when
            int exit = SelfCheck.run(new PrintStream(out, true, StandardCharsets.UTF_8),
                    new PrintStream(err, true, StandardCharsets.UTF_8));

            // then
            assertThat(exit).isEqualTo(1);
            assertThat(out.toString(StandardCharsets.UTF_8)).startsWith("tls=JDK ").contains(" context=ok ");
            assertThat(err.toString(StandardCharsets.UTF_8)).contains("does not run on OpenSSL");
        } finally {
            System.clearProperty("porthole.tls.provider");
        }
    }
}
