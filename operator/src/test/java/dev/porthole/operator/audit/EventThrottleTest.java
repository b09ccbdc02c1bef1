package dev.porthole.operator.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.OptionalLong;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class EventThrottleTest {
    private static final Instant T0 = Instant.parse("2026-12-02T04:00:00Z");
    private final EventThrottle throttle = new EventThrottle(3, Duration.ofMinutes(1));

    @Test
    @DisplayName("a burst is written, the rest withheld; the first Event of the next window says how many were left out")
    void burstThenWithheldThenCounted() {
        for (int i = 0; i < 3; i++) {
            assertThat(throttle.admit("uid-1/SessionDenied", T0.plusSeconds(i))).hasValue(0);
        }
        for (int i = 0; i < 40; i++) {
            assertThat(throttle.admit("uid-1/SessionDenied", T0.plusSeconds(10))).isEmpty();
        }
        // another forward, or another reason, has its own budget
        assertThat(throttle.admit("uid-2/SessionDenied", T0.plusSeconds(10))).hasValue(0);
        assertThat(throttle.admit("uid-1/AgentRejected", T0.plusSeconds(10))).hasValue(0);

        // when the window has passed
        OptionalLong next = throttle.admit("uid-1/SessionDenied", T0.plusSeconds(60));

        // then
        assertThat(next).hasValue(40);
        assertThat(throttle.admit("uid-1/SessionDenied", T0.plusSeconds(61))).hasValue(0);
    }

    @Test
    @DisplayName("windows of forwards refused long ago are swept: memory stays bounded by recent refusals")
    void sweeps() {
        for (int i = 0; i < 5000; i++) {
            throttle.admit("uid-" + i + "/SessionDenied", T0.plusMillis(i * 100L));
        }
        assertThat(throttle.size()).isLessThanOrEqualTo(1025);
    }
}
