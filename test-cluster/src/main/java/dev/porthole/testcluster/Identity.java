package dev.porthole.testcluster;

import java.util.List;

/**
 * A named user the local API server authenticates through its token file. Each has a fixed random
 * token per cluster start; groups are stamped by the API server, never claimed by the client.
 *
 * <p>Some names are deliberately awkward, to prove identities arrive byte for byte: DN and CSV
 * punctuation, quotes, leading and trailing spaces, non-ASCII. A group name cannot contain a comma
 * here: the API server splits the token file's group column at commas.
 */
public enum Identity {
    /** Cluster administrator (group system:masters). */
    ADMIN("porthole-admin", List.of("system:masters")),
    /** An on-call SRE. */
    ALICE("alice", List.of("sre-oncall")),
    /** A developer outside on-call. */
    BOB("bob", List.of("dev-team")),
    /** Authenticated, but in no group and bound to nothing. */
    MALLORY("mallory", List.of()),
    /** Every character that RFC 4514 escapes or CSV quotes, a leading and a trailing space, in name and groups. */
    OBRIEN(" o'brien, +ops\\#=\"<x>; ", List.of("ops+oncall=\\#1", " dba;<prod> ", "\"quoted\" team")),
    /** Non-ASCII: accents, CJK and an emoji outside the Basic Multilingual Plane. */
    JOSE("José Müller", List.of("équipe données", "渡辺", "🚀 launch")),
    /** A name that a DN parser reads as hex-encoded DER: UTF8String "alice". */
    HEX_ALICE("#0c05616c696365", List.of("dev-team")),
    /** A control character (a tab) in the name: the API server authenticates it; Porthole's signer refuses it. */
    CONTROL_EVE("eve\tadmin", List.of("sre-oncall"));

    private final String username;
    private final List<String> groups;

    Identity(String username, List<String> groups) {
        this.username = username;
        this.groups = groups;
    }

    public String username() {
        return username;
    }

    public List<String> groups() {
        return groups;
    }

    /**
     * The name of this user's context (and user entry) in {@link TestCluster#kubeconfig()}: the user name
     * when it is a plain one, else the constant's name in lower case ({@code obrien}), so people and
     * scripts can type {@code --context NAME}.
     */
    public String contextName() {
        return username.matches("[a-z0-9]([-a-z0-9.@:]*[a-z0-9])?") ? username : name().toLowerCase().replace('_', '-');
    }
}
