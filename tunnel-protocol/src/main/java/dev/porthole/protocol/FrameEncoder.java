package dev.porthole.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Writes {@link Frame}s as {@code length:u32 | type:u8 | stream:u32 | payload}. DATA payloads are passed
 * on without copying (header buffer + the retained payload).
 */
@ChannelHandler.Sharable
public final class FrameEncoder extends MessageToMessageEncoder<Frame> {

    public static final FrameEncoder INSTANCE = new FrameEncoder();

    private FrameEncoder() {
        super(Frame.class);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, Frame frame, List<Object> out) {
        if (frame instanceof Frame.Data data) {
            ByteBuf header = ctx.alloc().ioBuffer(Protocol.HEADER_LENGTH);
            header.writeInt(data.content().readableBytes()).writeByte(FrameType.DATA.code).writeInt(data.streamId());
            out.add(header);
            out.add(data.content().retain());
            return;
        }
        ByteBuf buf = ctx.alloc().ioBuffer(64);
        try {
            encodeControl(frame, buf);
            out.add(buf);
        } catch (RuntimeException e) {
            buf.release();
            throw e;
        }
    }

    /** Encodes any frame but DATA into {@code buf}. Visible for tests that need to build raw frames. */
    public static void encodeControl(Frame frame, ByteBuf buf) {
        int start = buf.writerIndex();
        buf.writeInt(0).writeByte(typeOf(frame).code).writeInt(frame.streamId());
        if (frame instanceof Frame.Hello h) {
            buf.writeInt(Protocol.MAGIC).writeShort(h.version()).writeByte(h.role().code());
            writeString(buf, h.forward());
            writeString(buf, h.token());
            buf.writeInt(h.window());
        } else if (frame instanceof Frame.Welcome w) {
            buf.writeShort(w.version()).writeByte(w.accepted() ? 1 : 0)
                    .writeByte(w.refusal() == null ? 0 : w.refusal().code());
            writeString(buf, w.message());
            buf.writeByte(w.scope().code()).writeLong(w.expiresAt().toEpochMilli());
            writeString(buf, w.sessionId());
            buf.writeInt(w.window());
        } else if (frame instanceof Frame.WindowUpdate u) {
            buf.writeInt(u.increment());
        } else if (frame instanceof Frame.Reset r) {
            buf.writeByte(r.reason().code());
            writeString(buf, r.message());
        } else if (frame instanceof Frame.Ping p) {
            buf.writeLong(p.payload());
        } else if (frame instanceof Frame.Pong p) {
            buf.writeLong(p.payload());
        } else if (frame instanceof Frame.GoAway g) {
            buf.writeByte(g.reason().code());
            writeString(buf, g.message());
        } else if (frame instanceof Frame.Grant g) {
            writeString(buf, g.sessionId());
            byte[] pass = g.pass();
            buf.writeShort(pass.length).writeBytes(pass);
        } else if (frame instanceof Frame.Dial d) {
            writeString(buf, d.sessionId());
            buf.writeBytes(d.ticket().bytes()).writeBytes(d.clientCertificateSha256());
        } else if (frame instanceof Frame.Ended e) {
            buf.writeByte(e.reason().code());
            writeString(buf, e.message());
            buf.writeLong(e.bytesToTarget()).writeLong(e.bytesFromTarget());
        } else if (frame instanceof Frame.Data) {
            throw new IllegalArgumentException("DATA is not a control frame");
        }
        buf.setInt(start, buf.writerIndex() - start - Protocol.HEADER_LENGTH);
    }

    static FrameType typeOf(Frame frame) {
        if (frame instanceof Frame.Hello) {
            return FrameType.HELLO;
        } else if (frame instanceof Frame.Welcome) {
            return FrameType.WELCOME;
        } else if (frame instanceof Frame.Open) {
            return FrameType.OPEN;
        } else if (frame instanceof Frame.Data) {
            return FrameType.DATA;
        } else if (frame instanceof Frame.WindowUpdate) {
            return FrameType.WINDOW_UPDATE;
        } else if (frame instanceof Frame.Close) {
            return FrameType.CLOSE;
        } else if (frame instanceof Frame.Reset) {
            return FrameType.RESET;
        } else if (frame instanceof Frame.Ping) {
            return FrameType.PING;
        } else if (frame instanceof Frame.Pong) {
            return FrameType.PONG;
        } else if (frame instanceof Frame.Session) {
            return FrameType.SESSION;
        } else if (frame instanceof Frame.Grant) {
            return FrameType.GRANT;
        } else if (frame instanceof Frame.Dial) {
            return FrameType.DIAL;
        } else if (frame instanceof Frame.Ended) {
            return FrameType.ENDED;
        }
        return FrameType.GOAWAY;
    }

    private static void writeString(ByteBuf buf, String value) {
        int lengthIndex = buf.writerIndex();
        buf.writeShort(0);
        int written = ByteBufUtil.writeUtf8(buf, value);
        if (written > Protocol.MAX_STRING) {
            throw new IllegalArgumentException("string field longer than " + Protocol.MAX_STRING + " bytes");
        }
        buf.setShort(lengthIndex, written);
    }

    static String readString(ByteBuf buf, String field) {
        int length = readableCheck(buf, 2, field).readUnsignedShort();
        if (length > Protocol.MAX_STRING) {
            throw new ProtocolException(field + " longer than " + Protocol.MAX_STRING + " bytes");
        }
        return readableCheck(buf, length, field).readCharSequence(length, StandardCharsets.UTF_8).toString();
    }

    static ByteBuf readableCheck(ByteBuf buf, int bytes, String field) {
        if (buf.readableBytes() < bytes) {
            throw new ProtocolException("frame too short for field " + field);
        }
        return buf;
    }
}
