package dev.porthole.relay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.protocol.ForwardRef;
import dev.porthole.protocol.pki.ClientIdentity;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** {@link SpentPasses}: a pass opens one session on a replica, and the replica remembers it only while it is valid. */
class SpentPassesTest {

    private static final Instant NOW = Instant.parse("2026-12-02T12:00:00Z");
    private static final Duration VALIDITY = Duration.ofSeconds(10);

    private final AdmissionTestSupport.MovableClock clock = new AdmissionTestSupport.MovableClock(NOW);
    private final SpentPasses spent = new SpentPasses(clock);

    @Test
    @DisplayName("a pass is spent once: the second time it is refused, naming its session; other passes are not affected")
    void passIsSpentOnce() {
        // given
        SessionPass pass = pass("session-1", NOW.plus(VALIDITY));

        // when / then
        assertThat(spent.spend(pass)).isNull();
        assertThat(spent.spend(pass)).isEqualTo("session pass for session-1 was used already");
        assertThat(spent.spend(pass("session-2", NOW.plus(VALIDITY)))).isNull();
        assertThat(spent.size()).isEqualTo(2);
    }

    @Test
    @DisplayName("a spent pass is forgotten once it would have expired anyway (and the opening refuses it as expired)")
    void expiredPassesAreForgotten() {
        // given: two passes spent five seconds apart
        assertThat(spent.spend(pass("session-1", NOW.plus(VALIDITY)))).isNull();
        clock.advance(Duration.ofSeconds(5));
        assertThat(spent.spend(pass("session-2", NOW.plus(Duration.ofSeconds(5)).plus(VALIDITY)))).isNull();

        // when: the first's validity ends
        clock.advance(Duration.ofSeconds(5));
        assertThat(spent.spend(pass("session-3", clock.instant().plus(VALIDITY)))).isNull();

        // then: the first is gone, the second still remembered
        assertThat(spent.size()).isEqualTo(2);
        assertThat(spent.spend(pass("session-2", NOW.plus(Duration.ofSeconds(5)).plus(VALIDITY))))
                .isEqualTo("session pass for session-2 was used already");
        // and once every validity ended, nothing is left but what is spent now
        clock.advance(VALIDITY.plusSeconds(1));
        assertThat(spent.spend(pass("session-4", clock.instant().plus(VALIDITY)))).isNull();
        assertThat(spent.size()).isEqualTo(1);
    }

    @Test
    @DisplayName("at most MAX passes are remembered: beyond that new ones are refused rather than old ones forgotten,"
            + " until the oldest expire")
    void boundedByMax() {
        // given: MAX live passes
        for (int i = 0; i < SpentPasses.MAX; i++) {
            assertThat(spent.spend(pass("session-" + i, NOW.plus(VALIDITY)))).isNull();
        }

        // when / then: one more is refused, and every spent one is still known
        assertThat(spent.spend(pass("session-new", NOW.plus(VALIDITY))))
                .isEqualTo("the relay holds 65536 live session passes; try again in a few seconds");
        assertThat(spent.size()).isEqualTo(SpentPasses.MAX);
        assertThat(spent.spend(pass("session-0", NOW.plus(VALIDITY)))).isEqualTo("session pass for session-0 was used"
                + " already");
        // and once they expired there is room again
        clock.advance(VALIDITY);
        assertThat(spent.spend(pass("session-new", clock.instant().plus(VALIDITY)))).isNull();
        assertThat(spent.size()).isEqualTo(1);
    }

    private static SessionPass pass(String id, Instant validUntil) {
        try {
            return new SessionPass(id, new ClientIdentity("alice", List.of("sre"), ForwardRef.parse("shop/db"), "uid-db",
                    NOW.plus(Duration.ofHours(1))), new byte[32], InetAddress.getByName("192.0.2.10"), false, 1, 2, 1,
                    validUntil);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
