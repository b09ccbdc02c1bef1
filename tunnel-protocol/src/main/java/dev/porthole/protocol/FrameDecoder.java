package dev.porthole.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.time.Instant;
import java.util.List;

/**
 * Reads {@link Frame}s. Any length above {@link Protocol#MAX_PAYLOAD}, unknown type, wrong stream id
 * for the type, short or over-long payload raises a {@link ProtocolException}; after the first one the
 * decoder discards all further input, and the connection's handler closes the connection.
 */
public final class FrameDecoder extends ByteToMessageDecoder {

    private boolean failed;

    public FrameDecoder() {
        // A 64 KiB DATA frame nearly always spans two decrypted reads. Merging them would copy every byte
        // once more; a composite cumulation hands the payload on as slices of the reads instead.
        setCumulator(COMPOSITE_CUMULATOR);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        try {
            Frame frame;
            while ((frame = decodeOne(in)) != null) {
                out.add(frame);
            }
        } catch (ProtocolException e) {
            failed = true;
            in.skipBytes(in.readableBytes());
            throw e;
        }
    }

    /** Decodes one frame if a whole one is buffered, else returns null and consumes nothing. */
    static Frame decodeOne(ByteBuf in) {
        if (in.readableBytes() < Protocol.HEADER_LENGTH) {
            return null;
        }
        int start = in.readerIndex();
        long length = in.getUnsignedInt(start);
        if (length > Protocol.MAX_PAYLOAD) {
            throw new ProtocolException("frame length " + length + " exceeds limit " + Protocol.MAX_PAYLOAD);
        }
        FrameType type = FrameType.fromCode(in.getUnsignedByte(start + 4));
        int streamId = in.getInt(start + 5);
        checkStreamId(type, streamId);
        if (in.readableBytes() < Protocol.HEADER_LENGTH + length) {
            return null;
        }
        in.skipBytes(Protocol.HEADER_LENGTH);
        if (type == FrameType.DATA) {
            if (length == 0) {
                throw new ProtocolException("empty DATA frame on stream " + streamId);
            }
            return new Frame.Data(streamId, in.readRetainedSlice((int) length));
        }
        ByteBuf payload = in.readSlice((int) length);
        Frame frame = decodeControl(type, streamId, payload);
        if (payload.isReadable()) {
            throw new ProtocolException(type + " frame has " + payload.readableBytes() + " trailing bytes");
        }
        return frame;
    }

    private static void checkStreamId(FrameType type, int streamId) {
        boolean connectionLevel = type == FrameType.HELLO || type == FrameType.WELCOME || type == FrameType.PING
                || type == FrameType.PONG || type == FrameType.GOAWAY;
        if (connectionLevel && streamId != 0) {
            throw new ProtocolException(type + " frame on stream " + streamId + ", expected stream 0");
        }
        if (!connectionLevel && streamId <= 0) {
            throw new ProtocolException(type + " frame on invalid stream " + streamId);
        }
    }

    private static Frame decodeControl(FrameType type, int streamId, ByteBuf p) {
        switch (type) {
            case HELLO:
                return decodeHello(p);
            case WELCOME:
                return decodeWelcome(p);
            case OPEN:
                return new Frame.Open(streamId);
            case WINDOW_UPDATE:
                int increment = FrameEncoder.readableCheck(p, 4, "increment").readInt();
                if (increment <= 0) {
                    throw new ProtocolException("WINDOW_UPDATE with non-positive increment " + increment);
                }
                return new Frame.WindowUpdate(streamId, increment);
            case CLOSE:
                return new Frame.Close(streamId);
            case RESET:
                EndReason reason = EndReason.fromCode(FrameEncoder.readableCheck(p, 1, "reason").readUnsignedByte());
                return new Frame.Reset(streamId, reason, FrameEncoder.readString(p, "message"));
            case PING:
                return new Frame.Ping(FrameEncoder.readableCheck(p, 8, "payload").readLong());
            case PONG:
                return new Frame.Pong(FrameEncoder.readableCheck(p, 8, "payload").readLong());
            case SESSION:
                return new Frame.Session(streamId);
            case GRANT:
                String granted = FrameEncoder.readString(p, "sessionId");
                int passLength = FrameEncoder.readableCheck(p, 2, "pass length").readUnsignedShort();
                if (passLength == 0 || passLength > DataPreamble.MAX_CREDENTIAL) {
                    throw new ProtocolException("GRANT with a " + passLength + "-byte pass");
                }
                byte[] pass = new byte[passLength];
                FrameEncoder.readableCheck(p, passLength, "pass").readBytes(pass);
                return new Frame.Grant(streamId, granted, pass);
            case DIAL:
                String sessionId = FrameEncoder.readString(p, "sessionId");
                SessionTicket ticket = readTicket(p);
                byte[] digest = new byte[32];
                FrameEncoder.readableCheck(p, digest.length, "clientCertificateSha256").readBytes(digest);
                return new Frame.Dial(streamId, sessionId, ticket, digest);
            case ENDED:
                EndReason ended = EndReason.fromCode(FrameEncoder.readableCheck(p, 1, "reason").readUnsignedByte());
                String endMessage = FrameEncoder.readString(p, "message");
                long toTarget = FrameEncoder.readableCheck(p, 16, "byte counts").readLong();
                long fromTarget = p.readLong();
                if (toTarget < 0 || fromTarget < 0) {
                    throw new ProtocolException("ENDED with a negative byte count");
                }
                return new Frame.Ended(streamId, ended, endMessage, toTarget, fromTarget);
            case GOAWAY:
                EndReason why = EndReason.fromCode(FrameEncoder.readableCheck(p, 1, "reason").readUnsignedByte());
                return new Frame.GoAway(why, FrameEncoder.readString(p, "message"));
            default:
                throw new ProtocolException("unexpected frame type " + type);
        }
    }

    private static Frame.Hello decodeHello(ByteBuf p) {
        int magic = FrameEncoder.readableCheck(p, 6, "magic").readInt();
        if (magic != Protocol.MAGIC) {
            throw new ProtocolException("HELLO without Porthole magic (got 0x" + Integer.toHexString(magic) + ")");
        }
        int version = p.readUnsignedShort();
        if (version != Protocol.VERSION) {
            // Later versions may lay out the rest differently: hand the version up so it can be refused politely.
            p.skipBytes(p.readableBytes());
            return new Frame.Hello(version, null, "", "", 0);
        }
        Role role = Role.fromCode(FrameEncoder.readableCheck(p, 1, "role").readUnsignedByte());
        String forward = FrameEncoder.readString(p, "forward");
        String token = FrameEncoder.readString(p, "token");
        int window = readWindow(p);
        return new Frame.Hello(version, role, forward, token, window);
    }

    private static Frame.Welcome decodeWelcome(ByteBuf p) {
        int version = FrameEncoder.readableCheck(p, 4, "version").readUnsignedShort();
        boolean accepted = p.readUnsignedByte() == 1;
        int refusalCode = p.readUnsignedByte();
        EndReason refusal = refusalCode == 0 ? null : EndReason.fromCode(refusalCode);
        String message = FrameEncoder.readString(p, "message");
        BindScope scope = BindScope.fromCode(FrameEncoder.readableCheck(p, 9, "scope").readUnsignedByte());
        Instant expiresAt = Instant.ofEpochMilli(p.readLong());
        String sessionId = FrameEncoder.readString(p, "sessionId");
        int window = accepted ? readWindow(p) : FrameEncoder.readableCheck(p, 4, "window").readInt();
        if (!accepted && refusal == null) {
            throw new ProtocolException("refused WELCOME without a reason");
        }
        return new Frame.Welcome(version, accepted, refusal, message, scope, expiresAt, sessionId, window);
    }

    private static SessionTicket readTicket(ByteBuf p) {
        byte[] ticket = new byte[SessionTicket.LENGTH];
        FrameEncoder.readableCheck(p, ticket.length, "ticket").readBytes(ticket);
        return SessionTicket.of(ticket);
    }

    private static int readWindow(ByteBuf p) {
        int window = FrameEncoder.readableCheck(p, 4, "window").readInt();
        if (window < Protocol.MIN_WINDOW || window > Protocol.MAX_WINDOW) {
            throw new ProtocolException("window " + window + " outside [" + Protocol.MIN_WINDOW + ", "
                    + Protocol.MAX_WINDOW + "]");
        }
        return window;
    }
}
