package dev.porthole.protocol;

/** Wire codes of the frame types. */
enum FrameType {
    HELLO(0x01), WELCOME(0x02), OPEN(0x03), DATA(0x04), WINDOW_UPDATE(0x05), CLOSE(0x06), RESET(0x07),
    PING(0x08), PONG(0x09), GOAWAY(0x0A), DIAL(0x0B), SESSION(0x0C), GRANT(0x0D), ENDED(0x0E);

    private static final FrameType[] BY_CODE = new FrameType[16];

    static {
        for (FrameType type : values()) {
            BY_CODE[type.code] = type;
        }
    }

    final int code;

    FrameType(int code) {
        this.code = code;
    }

    static FrameType fromCode(int code) {
        FrameType type = code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
        if (type == null) {
            throw new ProtocolException("unknown frame type 0x" + Integer.toHexString(code));
        }
        return type;
    }
}
