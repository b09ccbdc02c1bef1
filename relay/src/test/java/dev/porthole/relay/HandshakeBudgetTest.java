package dev.porthole.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.channel.embedded.EmbeddedChannel;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Clock;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class HandshakeBudgetTest {
    private final HandshakeBudget budget = new HandshakeBudget("client", 4, 2, Clock.systemUTC());

    @Test
    @DisplayName("a source gets its share and no more: its next connection is refused, the waiting ones stay")
    void perSourceShare() {
        EmbeddedChannel first = channelFrom("192.0.2.1");
        EmbeddedChannel second = channelFrom("192.0.2.1");
        assertThat(budget.enter(first)).isTrue();
        assertThat(budget.enter(second)).isTrue();

        assertThat(budget.enter(channelFrom("192.0.2.1"))).isFalse();

        assertThat(first.isOpen()).isTrue();
        assertThat(second.isOpen()).isTrue();
        assertThat(budget.pending()).isEqualTo(2);
        assertThat(budget.shed()).isEqualTo(1);
    }

    @Test
    @DisplayName("when all sources together fill the budget, a newcomer gets in and the oldest waiting connection is closed")
    void fullBudgetEvictsTheOldest() {
        EmbeddedChannel oldest = channelFrom("192.0.2.1");
        budget.enter(oldest);
        EmbeddedChannel[] others = {channelFrom("192.0.2.1"), channelFrom("192.0.2.2"), channelFrom("192.0.2.2")};
        for (EmbeddedChannel c : others) {
            assertThat(budget.enter(c)).isTrue();
        }

        EmbeddedChannel newcomer = channelFrom("198.51.100.9");
        assertThat(budget.enter(newcomer)).isTrue();

        assertThat(oldest.isOpen()).isFalse();
        assertThat(newcomer.isOpen()).isTrue();
        assertThat(others).allMatch(EmbeddedChannel::isOpen);
        assertThat(budget.pending()).isEqualTo(4);
        assertThat(budget.shed()).isEqualTo(1);
    }

    @Test
    @DisplayName("a channel's place comes back once, whether it is admitted, closes, or both")
    void channelPlaceReturnsOnce() {
        // given
        EmbeddedChannel first = channelFrom("198.51.100.7");
        EmbeddedChannel second = channelFrom("198.51.100.7");
        assertThat(budget.enter(first)).isTrue();
        assertThat(budget.enter(second)).isTrue();

        // when
        HandshakeBudget.admitted(first);
        first.close();
        second.close();
        HandshakeBudget.admitted(second);

        // then
        assertThat(budget.pending()).isZero();
        assertThat(budget.sources()).isZero();
        assertThat(budget.enter(channelFrom("198.51.100.7"))).as("the source's share is free again").isTrue();
    }

    @Test
    @DisplayName("limits below one are refused")
    void limits() {
        assertThatThrownBy(() -> new HandshakeBudget("agent", 0, 1, Clock.systemUTC()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least 1");
    }

    private static EmbeddedChannel channelFrom(String address) {
        InetSocketAddress remote = new InetSocketAddress(address, 40000);
        return new EmbeddedChannel() {
            @Override
            protected SocketAddress remoteAddress0() {
                return remote;
            }
        };
    }
}
