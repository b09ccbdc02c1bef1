package dev.porthole.operator.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ConditionsTest {
    private static final Instant T0 = Instant.parse("2026-11-25T10:00:00Z");
    private static final Instant T1 = Instant.parse("2026-11-25T10:05:00Z");

    @Test
    @DisplayName("lastTransitionTime stays while the status holds, even if the message changes")
    void keepsTransitionTimeWhileStatusHolds() {
        List<Condition> c = Conditions.set(List.of(), "Ready", true, "A", "first", 1L, T0);
        c = Conditions.set(c, "Ready", true, "B", "second", 2L, T1);
        assertThat(c).singleElement().satisfies(k -> {
            assertThat(k.getLastTransitionTime()).isEqualTo(T0.toString());
            assertThat(k.getMessage()).isEqualTo("second");
            assertThat(k.getObservedGeneration()).isEqualTo(2L);
        });
    }

    @Test
    @DisplayName("a flip of status moves lastTransitionTime and leaves other conditions alone")
    void flipMovesTransitionTime() {
        List<Condition> c = Conditions.set(List.of(), "Ready", true, "A", "up", 1L, T0);
        c = Conditions.set(c, "PolicyCompliant", true, "Compliant", "ok", 1L, T0);
        c = Conditions.set(c, "Ready", false, "TargetUnavailable", "gone", 1L, T1);
        assertThat(Conditions.find(c, "Ready")).hasValueSatisfying(k -> {
            assertThat(k.getStatus()).isEqualTo("False");
            assertThat(k.getLastTransitionTime()).isEqualTo(T1.toString());
        });
        assertThat(Conditions.find(c, "PolicyCompliant")).hasValueSatisfying(k -> assertThat(k.getLastTransitionTime()).isEqualTo(T0.toString()));
    }
}
