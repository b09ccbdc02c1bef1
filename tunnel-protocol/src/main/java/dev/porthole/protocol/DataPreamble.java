package dev.porthole.protocol;

import io.netty.buffer.ByteBuf;
import java.util.Arrays;

/**
 * The first and only plain bytes a peer sends on a data connection:
 * {@code magic:u32 "PRTD" | version:u16 | side:u8 | length:u16 | credential}. The agent's credential is the
 * {@link SessionTicket} its relay sent it in the {@link Frame.Dial}; the client's is the sealed session pass a relay
 * replica granted it ({@link Frame.Grant}), which any replica can verify. Everything after the preamble is the
 * end-to-end TLS session between the client and the agent, which the relay passes on unread. A control connection
 * starts with a TLS record (first byte 0x16), a data connection with this magic, so one listener serves both.
 */
public record DataPreamble(Side side, byte[] credential) {
    /** "PRTD". */
    public static final int MAGIC = 0x50525444;
    /** Magic, version, side and length: what comes before the credential. */
    public static final int HEADER_LENGTH = 4 + 2 + 1 + 2;
    /** The longest credential a relay reads; a longer one is a protocol error, not a buffer to fill. */
    public static final int MAX_CREDENTIAL = 1024;
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

    public DataPreamble {
        if (side == Side.AGENT && credential.length != SessionTicket.LENGTH) {
            throw new ProtocolException("an agent's data connection presents a " + SessionTicket.LENGTH
                    + "-byte ticket, got " + credential.length + " bytes");
        }
        if (credential.length == 0 || credential.length > MAX_CREDENTIAL) {
            throw new ProtocolException("a data connection's credential is 1 to " + MAX_CREDENTIAL + " bytes, got "
                    + credential.length);
        }
        credential = credential.clone();
    }

    public static DataPreamble agent(SessionTicket ticket) {
        return new DataPreamble(Side.AGENT, ticket.bytes());
    }

    public static DataPreamble client(byte[] pass) {
        return new DataPreamble(Side.CLIENT, pass);
    }

    @Override
    public byte[] credential() {
        return credential.clone();
    }

    /** The agent's ticket (only for {@link Side#AGENT}). */
    public SessionTicket ticket() {
        if (side != Side.AGENT) {
            throw new IllegalStateException("a client's data connection presents a session pass, not a ticket");
        }
        return SessionTicket.of(credential);
    }

    public int length() {
        return HEADER_LENGTH + credential.length;
    }

    public void writeTo(ByteBuf out) {
        out.writeInt(MAGIC).writeShort(Protocol.VERSION).writeByte(side.code).writeShort(credential.length)
                .writeBytes(credential);
    }

    /** Reads a preamble once it is all buffered (else returns null, consuming nothing). */
    public static DataPreamble read(ByteBuf in) {
        if (in.readableBytes() < HEADER_LENGTH) {
            return null;
        }
        int start = in.readerIndex();
        int magic = in.getInt(start);
        if (magic != MAGIC) {
            throw new ProtocolException("data connection without Porthole magic (got 0x" + Integer.toHexString(magic) + ")");
        }
        int version = in.getUnsignedShort(start + 4);
        if (version != Protocol.VERSION) {
            throw new ProtocolException("unsupported protocol version " + version + " on a data connection; this relay"
                    + " speaks " + Protocol.VERSION);
        }
        Side side = Side.fromCode(in.getUnsignedByte(start + 6));
        int length = in.getUnsignedShort(start + 7);
        if (length == 0 || length > MAX_CREDENTIAL) {
            throw new ProtocolException("a data connection's credential is 1 to " + MAX_CREDENTIAL + " bytes, got "
                    + length);
        }
        if (in.readableBytes() < HEADER_LENGTH + length) {
            return null;
        }
        in.skipBytes(HEADER_LENGTH);
        byte[] credential = new byte[length];
        in.readBytes(credential);
        return new DataPreamble(side, credential);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DataPreamble p && p.side == side && Arrays.equals(p.credential, credential);
    }

    @Override
    public int hashCode() {
        return 31 * side.hashCode() + Arrays.hashCode(credential);
    }

    @Override
    public String toString() {
        return "DataPreamble[" + side + ", " + credential.length + " bytes]";
    }
}
