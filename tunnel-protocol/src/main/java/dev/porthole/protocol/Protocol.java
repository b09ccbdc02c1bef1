package dev.porthole.protocol;

/** Constants of the Porthole tunnel protocol, version 2. See docs/data-plane.md for the wire format. */
public final class Protocol {
    /** The only protocol version this build speaks. */
    public static final int VERSION = 2;
    /** "PRTH": first field of every HELLO, so that strays (HTTP, TLS probes) are told apart at once. */
    public static final int MAGIC = 0x50525448;
    /** length (4) + type (1) + stream id (4). */
    public static final int HEADER_LENGTH = 9;
    /** Largest payload of any frame; a longer length field is a protocol error. */
    public static final int MAX_PAYLOAD = 64 * 1024;
    /**
     * Largest payload a sender puts in one DATA frame (the whole {@link #MAX_PAYLOAD}: fewer, larger frames
     * cost less per byte; TLS cuts them into 16 KiB records anyway).
     */
    public static final int MAX_DATA_PAYLOAD = MAX_PAYLOAD;
    /**
     * Largest single read from a plain socket (a client's local connection, a target): large reads mean fewer
     * system calls; a stream cuts them into DATA frames of {@link #MAX_DATA_PAYLOAD}. Not a wire constant.
     */
    public static final int MAX_SOCKET_READ = 256 * 1024;
    /** Smallest per-stream window a peer may announce. */
    public static final int MIN_WINDOW = 32 * 1024;
    /** Longest string field (forward, token, reason) in bytes. */
    public static final int MAX_STRING = 4096;
    /** Default per-stream receive window each side announces in its handshake. */
    public static final int DEFAULT_WINDOW = 512 * 1024;
    /** Largest per-stream window a peer may announce. */
    public static final int MAX_WINDOW = 16 * 1024 * 1024;
    /** The single stream a client session carries. */
    public static final int CLIENT_STREAM_ID = 1;

    private Protocol() {
    }
}
