package dev.porthole.protocol;

/** What a connecting peer wants, announced in its HELLO. */
public enum Role {
    /** A tunnel agent offering streams to its target. */
    AGENT(1),
    /** A client that wants one session (one stream) to a forward's target. */
    CLIENT_SESSION(2),
    /** A client that asks whether it may connect and then watches the forward until it ends. */
    CLIENT_PROBE(3);

    private final int code;

    Role(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    public static Role fromCode(int code) {
        for (Role role : values()) {
            if (role.code == code) {
                return role;
            }
        }
        throw new ProtocolException("unknown role code " + code);
    }
}
