package dev.porthole.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class MultiplexerTest {

    private static final int WINDOW = 64 * 1024;

    private final List<ByteBuf> received = new ArrayList<>();
    private final List<String> events = new ArrayList<>();
    private final List<Stream> accepted = new ArrayList<>();

    private final StreamHandler recorder = new StreamHandler() {
        @Override
        public void onData(Stream stream, ByteBuf data) {
            received.add(data);
        }

        @Override
        public void onRemoteClose(Stream stream) {
            events.add("close");
        }

        @Override
        public void onReset(Stream stream, EndReason reason, String message) {
            events.add("reset " + reason);
        }
    };

    private Multiplexer mux(EmbeddedChannel channel, List<String> closed) {
        Multiplexer mux = new Multiplexer(channel, new Multiplexer.Settings(WINDOW, 8, "test", EndReason.AGENT_LOST),
                WINDOW, stream -> {
                    accepted.add(stream);
                    return recorder;
                }, (reason, message) -> closed.add(reason + ": " + message));
        channel.pipeline().addLast(new MuxHandler(mux));
        return mux;
    }

    @Test
    @DisplayName("a stream sends no more than the peer's window until it grants more")
    void sendRespectsPeerWindow() {
        // given
        EmbeddedChannel channel = new EmbeddedChannel();
        Multiplexer mux = mux(channel, new ArrayList<>());
        Stream stream = mux.openStream(recorder);
        // when
        stream.write(Unpooled.wrappedBuffer(new byte[WINDOW + 1000]), null);
        long sentBeforeUpdate = sentDataBytes(channel);
        mux.onFrame(new Frame.WindowUpdate(stream.id(), 1000));
        long sentAfterUpdate = sentDataBytes(channel);
        // then
        assertThat(sentBeforeUpdate).isEqualTo(WINDOW);
        assertThat(sentAfterUpdate).isEqualTo(1000);
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    @DisplayName("a socket may read ahead only while its stream queues less than the peer's window")
    void readAheadBoundedByWindow() {
        // given
        EmbeddedChannel channel = new EmbeddedChannel();
        Multiplexer mux = mux(channel, new ArrayList<>());
        Stream stream = mux.openStream(recorder);
        // when
        stream.write(Unpooled.wrappedBuffer(new byte[WINDOW]), null);
        boolean afterWindowSent = stream.wantsData();
        stream.write(Unpooled.wrappedBuffer(new byte[WINDOW]), null);
        boolean afterWindowQueued = stream.wantsData();
        mux.onFrame(new Frame.WindowUpdate(stream.id(), WINDOW));
        boolean afterCredit = stream.wantsData();
        stream.close();
        boolean afterClose = stream.wantsData();
        // then
        assertThat(afterWindowSent).isTrue();
        assertThat(afterWindowQueued).isFalse();
        assertThat(afterCredit).isTrue();
        assertThat(afterClose).isFalse();
        assertThat(sentDataBytes(channel)).isEqualTo(2L * WINDOW);
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    @DisplayName("consumed data is acknowledged with a WINDOW_UPDATE")
    void consumptionGrantsCredit() {
        // given
        EmbeddedChannel channel = new EmbeddedChannel();
        Multiplexer mux = mux(channel, new ArrayList<>());
        mux.onFrame(new Frame.Open(2));
        channel.writeInbound(new Frame.Data(2, Unpooled.wrappedBuffer(new byte[WINDOW / 2])));
        // when
        Stream stream = accepted.get(0);
        received.forEach(ByteBuf::release);
        stream.consumed(WINDOW / 2);
        // then
        assertThat((Object) channel.readOutbound()).isEqualTo(new Frame.WindowUpdate(2, WINDOW / 2));
        channel.finishAndReleaseAll();
    }

    @Test
    @DisplayName("data beyond the window resets its streams, sends GOAWAY and closes the connection after a grace period")
    void windowViolationClosesConnection() {
        // given
        EmbeddedChannel channel = new EmbeddedChannel();
        List<String> closed = new ArrayList<>();
        Multiplexer mux = mux(channel, closed);
        mux.onFrame(new Frame.Open(2));
        // when
        channel.writeInbound(new Frame.Data(2, Unpooled.wrappedBuffer(new byte[WINDOW])));
        channel.writeInbound(new Frame.Data(2, Unpooled.wrappedBuffer(new byte[1])));
        channel.advanceTimeBy(2, java.util.concurrent.TimeUnit.SECONDS);
        channel.runPendingTasks();
        // then
        received.forEach(ByteBuf::release);
        assertThat(channel.isActive()).isFalse();
        assertThat(events).containsExactly("reset PROTOCOL_ERROR");
        assertThat(closed).singleElement().asString().startsWith("PROTOCOL_ERROR");
        assertThat(channel.finishAndReleaseAll()).isTrue();
    }

    @Test
    @DisplayName("a ping is answered with a pong carrying the same payload")
    void pingAnswered() {
        // given
        EmbeddedChannel channel = new EmbeddedChannel();
        mux(channel, new ArrayList<>());
        // when
        channel.writeInbound(new Frame.Ping(7));
        // then
        assertThat((Object) channel.readOutbound()).isEqualTo(new Frame.Pong(7));
        channel.finishAndReleaseAll();
    }

    @Test
    @DisplayName("losing the connection resets every stream with the connection's loss reason")
    void connectionLossResetsStreams() {
        // given
        EmbeddedChannel channel = new EmbeddedChannel();
        List<String> closed = new ArrayList<>();
        Multiplexer mux = mux(channel, closed);
        mux.onFrame(new Frame.Open(2));
        mux.onFrame(new Frame.Open(4));
        // when
        channel.close();
        // then
        assertThat(events).containsExactly("reset AGENT_LOST", "reset AGENT_LOST");
        assertThat(closed).containsExactly("AGENT_LOST: connection closed");
        assertThat(mux.streamCount()).isZero();
        channel.finishAndReleaseAll();
    }

    @Test
    @DisplayName("with the smallest windows, a socket reading as much as it may never overruns a stream's queue")
    void largestSocketReadsFitTheQueueBoundAtTheSmallestWindow() {
        // given: both sides announce the protocol's smallest window
        EmbeddedChannel channel = new EmbeddedChannel();
        Multiplexer.Settings settings = new Multiplexer.Settings(Protocol.MIN_WINDOW, 8, "test", EndReason.AGENT_LOST);
        Multiplexer mux = new Multiplexer(channel, settings, Protocol.MIN_WINDOW, null, (reason, message) -> { });
        channel.pipeline().addLast(new MuxHandler(mux));
        Stream stream = mux.openStream(recorder);
        // when: a splice reads full-size socket buffers while the stream wants data, and the peer grants credit
        long written = 0;
        for (int round = 0; round < 50; round++) {
            while (stream.wantsData()) {
                stream.write(Unpooled.wrappedBuffer(new byte[Protocol.MAX_SOCKET_READ]), null);
                written += Protocol.MAX_SOCKET_READ;
            }
            sentDataBytes(channel);
            mux.onFrame(new Frame.WindowUpdate(stream.id(), Protocol.MIN_WINDOW));
        }
        // then: the stream was never reset for queueing too much, and all that was granted was sent
        assertThat(stream.isTerminated()).isFalse();
        assertThat(written).isGreaterThan(Protocol.MAX_SOCKET_READ);
        assertThat(stream.bufferedBytes()).isLessThanOrEqualTo(settings.maxPending());
    }

    private static long sentDataBytes(EmbeddedChannel channel) {
        long bytes = 0;
        Object out;
        while ((out = channel.readOutbound()) != null) {
            if (out instanceof Frame.Data data) {
                bytes += data.content().readableBytes();
            }
            io.netty.util.ReferenceCountUtil.release(out);
        }
        return bytes;
    }
}
