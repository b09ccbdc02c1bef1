package dev.porthole.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class FlowControlTest {

    @Test
    @DisplayName("the send window grants no more than its credit and grows with updates")
    void sendWindowGrantsCredit() {
        // given
        SendWindow window = new SendWindow(100);
        // when
        int first = window.take(70);
        int second = window.take(70);
        int exhausted = window.take(1);
        window.credit(50);
        // then
        assertThat(first).isEqualTo(70);
        assertThat(second).isEqualTo(30);
        assertThat(exhausted).isZero();
        assertThat(window.take(1000)).isEqualTo(50);
    }

    @Test
    @DisplayName("a peer granting credit past the maximum window breaks the protocol")
    void sendWindowOverflow() {
        // given
        SendWindow window = new SendWindow(Protocol.MAX_WINDOW);
        // when / then
        assertThatThrownBy(() -> window.credit(1)).isInstanceOf(ProtocolException.class);
    }

    @Test
    @DisplayName("the receive window refuses data beyond it")
    void receiveWindowEnforced() {
        // given
        ReceiveWindow window = new ReceiveWindow(64 * 1024);
        // when
        window.received(64 * 1024);
        // then
        assertThatThrownBy(() -> window.received(1)).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("window");
        assertThat(window.buffered()).isEqualTo(64 * 1024);
    }

    @Test
    @DisplayName("consumed bytes are given back in batches of a quarter window")
    void receiveWindowBatchesUpdates() {
        // given
        ReceiveWindow window = new ReceiveWindow(64 * 1024);
        window.received(32 * 1024);
        // when
        int small = window.consumed(8 * 1024);
        int batch = window.consumed(8 * 1024);
        // then
        assertThat(small).isZero();
        assertThat(batch).isEqualTo(16 * 1024);
        assertThat(window.buffered()).isEqualTo(16 * 1024);
    }

    @Test
    @DisplayName("an exhausted window is reopened by any consumption, so the sender never stalls for good")
    void exhaustedWindowReopens() {
        // given
        ReceiveWindow window = new ReceiveWindow(64 * 1024);
        window.received(64 * 1024);
        // when
        int increment = window.consumed(100);
        // then
        assertThat(increment).isEqualTo(100);
    }

    @Test
    @DisplayName("a stream ends after CLOSE in both directions, or at once on reset")
    void streamStateHalfClose() {
        // given
        StreamState graceful = new StreamState();
        StreamState aborted = new StreamState();
        // when
        graceful.closeLocal();
        boolean afterLocal = graceful.isTerminated();
        graceful.remoteClose(1);
        aborted.reset();
        // then
        assertThat(afterLocal).isFalse();
        assertThat(graceful.isTerminated()).isTrue();
        assertThat(aborted.isTerminated()).isTrue();
        assertThat(aborted.closeLocal()).isFalse();
    }

    @Test
    @DisplayName("data after the peer's CLOSE, or a second CLOSE, is a protocol error")
    void streamStateViolations() {
        // given
        StreamState state = new StreamState();
        state.remoteClose(3);
        // when / then
        assertThatThrownBy(() -> state.checkReceive(3)).isInstanceOf(ProtocolException.class);
        assertThatThrownBy(() -> state.remoteClose(3)).isInstanceOf(ProtocolException.class);
    }

    @Test
    @DisplayName("loopback scope permits only loopback bind addresses; wider scopes permit any")
    void bindScopes() throws Exception {
        // given
        java.net.InetAddress any = java.net.InetAddress.getByName("0.0.0.0");
        java.net.InetAddress loopback = java.net.InetAddress.getByName("127.0.0.1");
        // when / then
        assertThat(BindScope.LOOPBACK.permits(loopback)).isTrue();
        assertThat(BindScope.LOOPBACK.permits(any)).isFalse();
        assertThat(BindScope.CLUSTER.permits(any)).isTrue();
        assertThat(BindScope.parse("Public")).isEqualTo(BindScope.PUBLIC);
    }
}
