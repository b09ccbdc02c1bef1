package dev.porthole.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class FrameCodecTest {

    private static final List<Frame> CONTROL_FRAMES = List.of(
            new Frame.Hello(Protocol.VERSION, Role.AGENT, "shop/db", "s3cret", Protocol.DEFAULT_WINDOW),
            Frame.Welcome.accept(BindScope.CLUSTER, Instant.ofEpochMilli(1_800_000_000_000L), "session-1", 65536),
            Frame.Welcome.refuse(EndReason.DENIED, "certificate is for forward a/b, not c/d"),
            new Frame.Open(3), new Frame.WindowUpdate(3, 4096), new Frame.Close(5),
            new Frame.Reset(7, EndReason.TARGET_REFUSED, "connection refused"),
            new Frame.Ping(42L), new Frame.Pong(43L), new Frame.GoAway(EndReason.REVOKED, "forward revoked"),
            new Frame.Session(9), new Frame.Grant(9, "session-9", new byte[] {1, 2, 3, 4, 5}),
            new Frame.Dial(11, "session-9", SessionTicket.random(), new byte[32]),
            new Frame.Ended(11, EndReason.TARGET_CLOSED, "target closed the connection", 1L << 40, 7));

    @Test
    @DisplayName("every control frame survives encoding and decoding unchanged")
    void controlFramesRoundTrip() {
        // given
        EmbeddedChannel channel = new EmbeddedChannel(FrameEncoder.INSTANCE, new FrameDecoder());
        // when
        for (Frame frame : CONTROL_FRAMES) {
            channel.writeOutbound(frame);
            ByteBuf encoded = channel.readOutbound();
            channel.writeInbound(encoded);
        }
        // then
        for (Frame frame : CONTROL_FRAMES) {
            assertThat((Frame) channel.readInbound()).isEqualTo(frame);
        }
        assertThat(channel.finish()).isFalse();
    }

    @Test
    @DisplayName("a DATA frame split across reads arrives whole with its payload")
    void dataFrameSplitAcrossReads() {
        // given
        EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder());
        ByteBuf wire = Unpooled.buffer();
        wire.writeInt(5).writeByte(0x04).writeInt(9).writeBytes("hello".getBytes(StandardCharsets.US_ASCII));
        // when
        channel.writeInbound(wire.readRetainedSlice(7));
        channel.writeInbound(wire.readRetainedSlice(wire.readableBytes()));
        wire.release();
        // then
        Frame.Data data = channel.readInbound();
        assertThat(data.streamId()).isEqualTo(9);
        assertThat(data.content().toString(StandardCharsets.US_ASCII)).isEqualTo("hello");
        data.release();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    @DisplayName("a frame longer than the limit is a protocol error before its payload is buffered")
    void oversizedFrameRejected() {
        // given
        EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder());
        ByteBuf wire = Unpooled.buffer().writeInt(Protocol.MAX_PAYLOAD + 1).writeByte(0x04).writeInt(1);
        // when / then
        assertThatThrownBy(() -> channel.writeInbound(wire)).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("exceeds limit");
        channel.finishAndReleaseAll();
    }

    @Test
    @DisplayName("an unknown frame type is a protocol error naming the type")
    void unknownTypeRejected() {
        // given
        EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder());
        ByteBuf wire = Unpooled.buffer().writeInt(0).writeByte(0x7f).writeInt(1);
        // when / then
        assertThatThrownBy(() -> channel.writeInbound(wire)).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("unknown frame type 0x7f");
        channel.finishAndReleaseAll();
    }

    @Test
    @DisplayName("a HELLO without the magic, a connection frame on a stream and trailing bytes are refused")
    void malformedControlFramesRejected() {
        // given
        ByteBuf noMagic = Unpooled.buffer().writeInt(6).writeByte(0x01).writeInt(0).writeInt(0x47455420).writeShort(1);
        ByteBuf pingOnStream = Unpooled.buffer().writeInt(8).writeByte(0x08).writeInt(3).writeLong(1);
        ByteBuf trailing = Unpooled.buffer().writeInt(1).writeByte(0x06).writeInt(3).writeByte(0);
        // when / then
        assertThatThrownBy(() -> new EmbeddedChannel(new FrameDecoder()).writeInbound(noMagic))
                .isInstanceOf(ProtocolException.class).hasMessageContaining("magic");
        assertThatThrownBy(() -> new EmbeddedChannel(new FrameDecoder()).writeInbound(pingOnStream))
                .isInstanceOf(ProtocolException.class).hasMessageContaining("expected stream 0");
        assertThatThrownBy(() -> new EmbeddedChannel(new FrameDecoder()).writeInbound(trailing))
                .isInstanceOf(ProtocolException.class).hasMessageContaining("trailing");
    }

    @Test
    @DisplayName("a data connection's preamble round-trips (an agent's ticket, a client's pass); a wrong magic, version, side or length is a protocol error")
    void dataPreamble() {
        SessionTicket ticket = SessionTicket.random();
        ByteBuf wire = Unpooled.buffer();
        DataPreamble.agent(ticket).writeTo(wire);
        assertThat(wire.readableBytes()).isEqualTo(DataPreamble.HEADER_LENGTH + SessionTicket.LENGTH);
        assertThat((int) wire.getUnsignedByte(0)).isEqualTo(DataPreamble.FIRST_BYTE);
        assertThat(DataPreamble.read(wire.slice(0, wire.readableBytes() - 1))).as("not all there yet").isNull();
        assertThat(DataPreamble.read(wire.duplicate()).ticket()).isEqualTo(ticket);
        for (int[] corruption : new int[][] {{0, 0x51}, {5, Protocol.VERSION + 1}, {6, 7}, {7, 0xff}, {8, 31}}) {
            ByteBuf bad = wire.copy();
            bad.setByte(corruption[0], corruption[1]);
            assertThatThrownBy(() -> DataPreamble.read(bad)).as("byte %d set to %d", corruption[0], corruption[1])
                    .isInstanceOf(ProtocolException.class);
            bad.release();
        }
        wire.release();

        byte[] pass = new byte[300];
        new java.util.Random(7).nextBytes(pass);
        ByteBuf client = Unpooled.buffer();
        DataPreamble.client(pass).writeTo(client);
        client.writeByte(0x16); // the TLS record that follows stays unread
        DataPreamble read = DataPreamble.read(client);
        assertThat(read.side()).isEqualTo(DataPreamble.Side.CLIENT);
        assertThat(read.credential()).isEqualTo(pass);
        assertThat(client.readableBytes()).isEqualTo(1);
        assertThatThrownBy(() -> DataPreamble.client(new byte[DataPreamble.MAX_CREDENTIAL + 1]))
                .isInstanceOf(ProtocolException.class);
        client.release();
    }

    @Test
    @DisplayName("a relay's refusal on a data connection round-trips, waits for all its bytes, and cuts an overlong message")
    void dataRefusal() {
        ByteBuf wire = Unpooled.buffer();
        new DataRefusal(EndReason.AGENT_UNAVAILABLE, "no agent of forward shop/db is connected to this relay replica")
                .writeTo(wire);
        assertThat((int) wire.getUnsignedByte(0)).isEqualTo(DataRefusal.FIRST_BYTE).isNotEqualTo(0x16);
        assertThat(DataRefusal.read(wire.slice(0, wire.readableBytes() - 1))).isNull();
        assertThat(DataRefusal.read(wire)).isEqualTo(new DataRefusal(EndReason.AGENT_UNAVAILABLE,
                "no agent of forward shop/db is connected to this relay replica"));
        ByteBuf longer = Unpooled.buffer();
        new DataRefusal(EndReason.DENIED, "x".repeat(2000)).writeTo(longer);
        assertThat(DataRefusal.read(longer).message()).hasSize(DataRefusal.MAX_MESSAGE);
        wire.release();
        longer.release();
    }

    @Test
    @DisplayName("relay addresses parse as host:port lists (IPv6 in brackets); a missing or bad port is refused")
    void relayAddresses() {
        assertThat(RelayAddress.parseList("porthole-relay-agents.porthole.svc:7443, 10.0.0.7:7444,[::1]:9"))
                .containsExactly(new RelayAddress("porthole-relay-agents.porthole.svc", 7443),
                        new RelayAddress("10.0.0.7", 7444), new RelayAddress("::1", 9));
        assertThat(new RelayAddress("::1", 9)).hasToString("[::1]:9");
        for (String bad : List.of("relay", "relay:", ":7443", "relay:https", "relay:70000", " , ")) {
            assertThatThrownBy(() -> RelayAddress.parseList(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    @DisplayName("an ENDED frame with a negative byte count is a protocol error")
    void endedNegativeCount() {
        ByteBuf wire = Unpooled.buffer();
        FrameEncoder.encodeControl(new Frame.Ended(3, EndReason.CLIENT_CLOSED, "", 0, 0), wire);
        wire.setLong(wire.writerIndex() - 16, -1L);
        EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder());
        assertThatThrownBy(() -> channel.writeInbound(wire)).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("negative byte count");
    }

    @Test
    @DisplayName("a HELLO of another protocol version decodes far enough to be refused politely")
    void futureVersionDecodes() {
        // given
        ByteBuf wire = Unpooled.buffer().writeInt(10).writeByte(0x01).writeInt(0).writeInt(Protocol.MAGIC)
                .writeShort(Protocol.VERSION + 1).writeInt(12345);
        EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder());
        // when
        channel.writeInbound(wire);
        // then
        Frame.Hello hello = channel.readInbound();
        assertThat(hello.version()).isEqualTo(Protocol.VERSION + 1);
        assertThat(channel.finish()).isFalse();
    }

    @Test
    @DisplayName("100,000 random and mutated inputs only ever yield frames or protocol errors, and leak nothing")
    void fuzzedInputs() {
        // given
        Random random = new Random(20261125);
        EmbeddedChannel encoder = new EmbeddedChannel(FrameEncoder.INSTANCE);
        int frames = 0;
        int errors = 0;
        // when
        for (int i = 0; i < 100_000; i++) {
            ByteBuf input;
            if (random.nextBoolean()) {
                byte[] bytes = new byte[random.nextInt(64)];
                random.nextBytes(bytes);
                input = Unpooled.wrappedBuffer(bytes);
            } else {
                encoder.writeOutbound(CONTROL_FRAMES.get(random.nextInt(CONTROL_FRAMES.size())));
                input = encoder.readOutbound();
                int flips = 1 + random.nextInt(3);
                for (int f = 0; f < flips; f++) {
                    int at = random.nextInt(input.readableBytes());
                    input.setByte(at, input.getByte(at) ^ (1 << random.nextInt(8)));
                }
            }
            EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder());
            try {
                channel.writeInbound(input);
            } catch (ProtocolException e) {
                errors++;
            }
            Object out;
            while ((out = channel.readInbound()) != null) {
                frames++;
                io.netty.util.ReferenceCountUtil.release(out);
            }
            channel.finishAndReleaseAll();
        }
        // then
        assertThat(frames + errors).isGreaterThan(10_000);
        assertThat(errors).isPositive();
    }
}
