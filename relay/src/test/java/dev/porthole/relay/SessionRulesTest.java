package dev.porthole.relay;

import dev.porthole.protocol.ForwardRef;
import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.protocol.EndReason;
import dev.porthole.pki.CertificateAuthority;
import dev.porthole.protocol.pki.ClientIdentity;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class SessionRulesTest {

    private static final CertificateAuthority CA = CertificateAuthority.create("test-ca", Duration.ofDays(1));

    @Test
    @DisplayName("the first stream event names the session's end")
    void firstEventWins() {
        // given
        SessionOutcome outcome = new SessionOutcome();
        // when
        outcome.offer(EndReason.TARGET_CLOSED, "target closed");
        outcome.offer(EndReason.CLIENT_CLOSED, "client closed");
        // then
        assertThat(outcome.end()).isEqualTo(EndReason.TARGET_CLOSED);
    }

    @Test
    @DisplayName("a revocation overrides a graceful half-close still in progress, but not a finished session")
    void relayDecisionOverrides() {
        // given
        SessionOutcome live = new SessionOutcome();
        SessionOutcome finished = new SessionOutcome();
        live.offer(EndReason.CLIENT_CLOSED, "client closed");
        finished.offer(EndReason.CLIENT_CLOSED, "client closed");
        finished.end();
        // when
        boolean forcedLive = live.force(EndReason.REVOKED, "revoked");
        boolean forcedFinished = finished.force(EndReason.REVOKED, "revoked");
        // then
        assertThat(forcedLive).isTrue();
        assertThat(live.end()).isEqualTo(EndReason.REVOKED);
        assertThat(forcedFinished).isFalse();
        assertThat(finished.end()).isEqualTo(EndReason.CLIENT_CLOSED);
    }

    @Test
    @DisplayName("a target socket failure reported by the agent counts as the target closing")
    void agentReasonsMapped() {
        // given / when / then
        assertThat(SessionOutcome.fromAgent(EndReason.CANCELLED)).isEqualTo(EndReason.TARGET_CLOSED);
        assertThat(SessionOutcome.fromAgent(EndReason.TARGET_REFUSED)).isEqualTo(EndReason.TARGET_REFUSED);
        assertThat(SessionOutcome.fromClient(EndReason.CANCELLED)).isEqualTo(EndReason.CLIENT_CLOSED);
    }

    @Test
    @DisplayName("a certificate for another forward, or an expired one, is refused with a readable reason")
    void clientChecks() {
        // given
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        ClientIdentity valid = new ClientIdentity("alice", List.of(), ForwardRef.parse("shop/db"), "uid-1", now.plusSeconds(600));
        ClientIdentity expired = new ClientIdentity("alice", List.of(), ForwardRef.parse("shop/db"), "uid-1", now.minusSeconds(1));
        X509Certificate validCert = CA.issueClientCertificate(CertificateAuthority.generateKeyPair().getPublic(), valid);
        X509Certificate expiredCert = CA.issueClientCertificate(CertificateAuthority.generateKeyPair().getPublic(), expired);
        // when / then
        assertThat(ClientCheck.refusal(valid, validCert, ForwardRef.parse("shop/db"), now)).isNull();
        assertThat(ClientCheck.refusal(valid, validCert, ForwardRef.parse("shop/cache"), now))
                .isEqualTo("certificate is for forward shop/db, not shop/cache");
        assertThat(ClientCheck.refusal(expired, expiredCert, ForwardRef.parse("shop/db"), now)).startsWith("certificate expired at");
    }

    @Test
    @DisplayName("the standalone config admits audience members only, until the forward expires")
    void staticForwards() {
        // given
        java.util.Properties p = new java.util.Properties();
        p.setProperty("forward.shop/db.token", "t0ken");
        p.setProperty("forward.shop/db.uid", "uid-1");
        p.setProperty("forward.shop/db.users", "alice");
        p.setProperty("forward.shop/db.groups", "sre");
        p.setProperty("forward.shop/db.scope", "Cluster");
        StaticForwards forwards = StaticForwards.fromProperties(p, java.time.Clock.systemUTC());
        // when / then
        assertThat(forwards.authenticate(ForwardRef.parse("shop/db"), "t0ken")).isTrue();
        assertThat(forwards.authenticate(ForwardRef.parse("shop/db"), "wrong")).isFalse();
        assertThat(forwards.authorize(new ClientIdentity("bob", List.of("sre"), ForwardRef.parse("shop/db"), "uid-1", Instant.MAX), ForwardRef.parse("shop/db"), null)
                .scope()).isEqualTo(dev.porthole.protocol.BindScope.CLUSTER);
        assertThat(forwards.authorize(new ClientIdentity("eve", List.of(), ForwardRef.parse("shop/db"), "uid-1", Instant.MAX), ForwardRef.parse("shop/db"), null)
                .allowed()).isFalse();
    }

    @Test
    @DisplayName("the standalone config refuses a certificate bound to another uid of the same forward name")
    void staticForwardsBindUid() {
        // given
        java.util.Properties p = new java.util.Properties();
        p.setProperty("forward.shop/db.token", "t0ken");
        p.setProperty("forward.shop/db.uid", "uid-2");
        p.setProperty("forward.shop/db.users", "alice");
        StaticForwards forwards = StaticForwards.fromProperties(p, java.time.Clock.systemUTC());

        // when
        Decision earlier = forwards.authorize(new ClientIdentity("alice", List.of(), ForwardRef.parse("shop/db"), "uid-1", Instant.MAX),
                ForwardRef.parse("shop/db"), null);
        Decision current = forwards.authorize(new ClientIdentity("alice", List.of(), ForwardRef.parse("shop/db"), "uid-2", Instant.MAX),
                ForwardRef.parse("shop/db"), null);

        // then
        assertThat(earlier.allowed()).isFalse();
        assertThat(earlier.reason())
                .isEqualTo("certificate was issued for an earlier forward named shop/db (uid uid-1); request a new one");
        assertThat(current.allowed()).isTrue();
    }

    @Test
    @DisplayName("a standalone forward without a uid is a configuration error, not a forward any certificate fits")
    void staticForwardNeedsUid() {
        // given
        java.util.Properties p = new java.util.Properties();
        p.setProperty("forward.shop/db.token", "t0ken");
        p.setProperty("forward.shop/db.users", "alice");

        // when / then
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> StaticForwards.fromProperties(p, java.time.Clock.systemUTC()))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("forward.shop/db.uid is missing: client certificates are bound to it");
    }
}
