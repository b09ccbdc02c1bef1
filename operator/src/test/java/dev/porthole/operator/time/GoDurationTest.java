package dev.porthole.operator.time;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class GoDurationTest {

    @ParameterizedTest
    @CsvSource({"30m,1800", "1h30m,5400", "1.5h,5400", "90s,90", "8h,28800", "500ms,0"})
    @DisplayName("Go duration syntax parses to the same length Kubernetes users mean")
    void parses(String text, long seconds) {
        assertThat(GoDuration.parse(text).toSeconds()).isEqualTo(seconds);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "10", "1d", "-5m", "m", "1h 30m"})
    @DisplayName("anything else is refused with the text in the message")
    void refusesGarbage(String text) {
        assertThatThrownBy(() -> GoDuration.parse(text)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(text);
    }

    @Test
    @DisplayName("formatting gives the shortest Go form")
    void formats() {
        assertThat(GoDuration.format(Duration.ofMinutes(90))).isEqualTo("1h30m");
        assertThat(GoDuration.format(Duration.ofHours(8))).isEqualTo("8h");
        assertThat(GoDuration.format(Duration.ofSeconds(45))).isEqualTo("45s");
    }
}
