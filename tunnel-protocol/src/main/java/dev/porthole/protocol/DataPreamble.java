package dev.porthole.protocol;

import io.netty.buffer.ByteBuf;

/**
 * The first and only plain bytes of a data connection: {@code magic:u32 "PRTD" | version:u16 | side:u8 | ticket:32}.
 * Everything after it is the end-to-end TLS session between the client and the agent, which the relay passes on
 * unread. A control connection starts with a TLS record (first byte 0x16), a data connection with this magic, so one
 * listener serves both.
 */
public record DataPreamble(Side side, SessionTicket ticket) {
    /** "PRTD". */
    public static final int MAGIC = 0x50525444;
    public static final int LENGTH = 4 + 2 + 1 + SessionTicket.LENGTH;
    /** The first byte of {@link #MAGIC}: what the relay's listeners look for. */
    public static final int FIRST_BYTE = MAGIC >>> 24;

    /** Which end of the session dialled. */
    public enum Side {
        CLIENT(1), AGENT(2);

        private final int code;

        Side(int code) {
            this.code = code;
        }

        static Side fromCode(int code) {
            for (Side side : values()) {
                if (side.code == code) {
                    return side;
                }
            }
            throw new ProtocolException("unknown data connection side " + code);
        }
    }

    public void writeTo(ByteBuf out) {
        out.writeInt(MAGIC).writeShort(Protocol.VERSION).writeByte(side.code).writeBytes(ticket.bytes());
    }

    /** Reads a preamble once {@link #LENGTH} bytes are buffered (else returns null, consuming nothing). */
    public static DataPreamble read(ByteBuf in) {
        if (in.readableBytes() < LENGTH) {
            return null;
        }
        int magic = in.readInt();
        if (magic != MAGIC) {
            throw new ProtocolException("data connection without Porthole magic (got 0x" + Integer.toHexString(magic) + ")");
        }
        int version = in.readUnsignedShort();
        if (version != Protocol.VERSION) {
            throw new ProtocolException("unsupported protocol version " + version + " on a data connection; this relay"
                    + " speaks " + Protocol.VERSION);
        }
        Side side = Side.fromCode(in.readUnsignedByte());
        byte[] ticket = new byte[SessionTicket.LENGTH];
        in.readBytes(ticket);
        return new DataPreamble(side, SessionTicket.of(ticket));
    }
}
