package dev.porthole.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.channel.embedded.EmbeddedChannel;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Clock;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class HandshakeBudgetTest {
    private final HandshakeBudget budget = new HandshakeBudget("client", 4, 2, Clock.systemUTC());

    @Test
    @DisplayName("a source gets its share, no more; others go on until the total is reached")
    void perSourceThenTotal() throws Exception {
        InetAddress a = InetAddress.getByName("192.0.2.1");
        InetAddress b = InetAddress.getByName("192.0.2.2");
        InetAddress c = InetAddress.getByName("192.0.2.3");

        assertThat(budget.enter(a)).isNull();
        assertThat(budget.enter(a)).isNull();
        assertThat(budget.enter(a)).isEqualTo("2 connections from 192.0.2.1 already wait for admission on the client listener");
        assertThat(budget.enter(b)).isNull();
        assertThat(budget.enter(b)).isNull();
        assertThat(budget.enter(c)).isEqualTo("4 connections already wait for admission on the client listener");
        assertThat(budget.pending()).isEqualTo(4);
        assertThat(budget.sources()).isEqualTo(2);

        budget.leave(a);
        assertThat(budget.enter(c)).isNull();
        assertThat(budget.sources()).isEqualTo(3);
    }

    @Test
    @DisplayName("a channel's place comes back once, whether it is admitted, closes, or both")
    void channelPlaceReturnsOnce() {
        // given
        EmbeddedChannel first = channelFrom("198.51.100.7");
        EmbeddedChannel second = channelFrom("198.51.100.7");
        assertThat(budget.enter(first)).isTrue();
        assertThat(budget.enter(second)).isTrue();
        assertThat(budget.enter(channelFrom("198.51.100.7"))).as("third from the same source").isFalse();

        // when
        HandshakeBudget.admitted(first);
        first.close();
        second.close();
        HandshakeBudget.admitted(second);

        // then
        assertThat(budget.pending()).isZero();
        assertThat(budget.sources()).isZero();
        assertThat(budget.shed()).isEqualTo(1);
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
