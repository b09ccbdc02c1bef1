package dev.porthole.protocol;

/** What a connecting peer wants, announced in its HELLO. */
public enum Role {
    /** A tunnel agent's control connection: the relay tells it, per session, to dial a data connection. */
    AGENT(1),
    /**
     * A client's control connection: it learns whether it may use the forward, its bind scope and expiry, asks for
     * sessions, and watches the forward until it ends. (Code 2 was version 1's connection per session.)
     */
    CLIENT(3);

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
