package dev.porthole.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import java.nio.charset.StandardCharsets;

/**
 * What a relay writes on a client's data connection, in the clear, when it will not open the session the client's pass
 * names (the forward ended meanwhile, no agent on this replica, the audit could not record it ...):
 * {@code magic:u32 "PRTX" | reason:u8 | length:u16 | message (UTF-8)}, then it closes. Only before the agent's end-to-end
 * TLS answer could have come: a client reads it where it expects a TLS record (first byte 0x16), and it carries no more
 * power than closing the connection would; it only says why.
 */
public record DataRefusal(EndReason reason, String message) {
    /** "PRTX". */
    public static final int MAGIC = 0x50525458;
    public static final int FIRST_BYTE = MAGIC >>> 24;
    private static final int HEADER_LENGTH = 4 + 1 + 2;
    /** The longest message read or written (longer ones are cut). */
    static final int MAX_MESSAGE = 512;

    public void writeTo(ByteBuf out) {
        byte[] text = message.getBytes(StandardCharsets.UTF_8);
        int length = Math.min(text.length, MAX_MESSAGE);
        out.writeInt(MAGIC).writeByte(reason.code()).writeShort(length).writeBytes(text, 0, length);
    }

    /** Writes this refusal on {@code channel}, then closes it once written. */
    public void sendAndClose(Channel channel) {
        ByteBuf said = channel.alloc().buffer();
        writeTo(said);
        channel.writeAndFlush(said).addListener(ChannelFutureListener.CLOSE);
    }

    /** Reads a refusal once it is all buffered (else null, consuming nothing). */
    public static DataRefusal read(ByteBuf in) {
        if (in.readableBytes() < HEADER_LENGTH) {
            return null;
        }
        int start = in.readerIndex();
        if (in.getInt(start) != MAGIC) {
            throw new ProtocolException("not a Porthole refusal (got 0x" + Integer.toHexString(in.getInt(start)) + ")");
        }
        EndReason reason = EndReason.fromCode(in.getUnsignedByte(start + 4));
        int length = in.getUnsignedShort(start + 5);
        if (length > MAX_MESSAGE) {
            throw new ProtocolException("a refusal's message is at most " + MAX_MESSAGE + " bytes, got " + length);
        }
        if (in.readableBytes() < HEADER_LENGTH + length) {
            return null;
        }
        in.skipBytes(HEADER_LENGTH);
        return new DataRefusal(reason, in.readCharSequence(length, StandardCharsets.UTF_8).toString());
    }
}
