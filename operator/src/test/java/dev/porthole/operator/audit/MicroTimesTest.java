package dev.porthole.operator.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Six fractional digits always, as the API server's MicroTime parser demands (an Event is refused otherwise). */
class MicroTimesTest {
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
        "2026-12-02T02:52:26.583Z, 2026-12-02T02:52:26.583000Z",
        "2026-12-02T02:52:26Z, 2026-12-02T02:52:26.000000Z",
        "2026-12-02T02:52:26.583000165Z, 2026-12-02T02:52:26.583000Z",
        "2026-12-02T02:52:26.123456789Z, 2026-12-02T02:52:26.123456Z",
    })
    void sixDigits(String instant, String expected) {
        assertThat(MicroTimes.of(Instant.parse(instant)).getTime()).isEqualTo(expected);
    }
}
