package dev.porthole.relay;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class RelayContextTest {

    @Test
    @DisplayName("an audit report the listener queue cannot take is counted, not dropped silently; a failing listener is survived")
    void reportsAreNeverDroppedSilently() {
        // given: a listener queue that is full, and one that runs reports inline
        // (every replica derives its pass seal from the serving key: a context has one)
        RelayContext full = new RelayContext(RelayServer.builder().serverKey(AdmissionTestSupport.RELAY_KEY),
                new InlineExecutor(), InlineExecutor.refusing());
        RelayContext working = new RelayContext(RelayServer.builder().serverKey(AdmissionTestSupport.RELAY_KEY),
                new InlineExecutor(), new InlineExecutor());
        AtomicInteger delivered = new AtomicInteger();

        // when
        full.notify(delivered::incrementAndGet);
        working.notify(() -> {
            throw new IllegalStateException("listener failed");
        });
        working.notify(delivered::incrementAndGet);

        // then
        assertThat(full.reportsDropped.get()).isEqualTo(1);
        assertThat(working.reportsDropped.get()).isZero();
        assertThat(delivered.get()).as("the report after a failing one still arrives").isEqualTo(1);
    }
}
