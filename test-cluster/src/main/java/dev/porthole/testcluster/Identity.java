package dev.porthole.testcluster;

import java.util.List;

/**
 * A named user the local API server authenticates through its token file. Each has a fixed random
 * token per cluster start; groups are stamped by the API server, never claimed by the client.
 */
public enum Identity {
    /** Cluster administrator (group system:masters). */
    ADMIN("porthole-admin", List.of("system:masters")),
    /** An on-call SRE. */
    ALICE("alice", List.of("sre-oncall")),
    /** A developer outside on-call. */
    BOB("bob", List.of("dev-team")),
    /** Authenticated, but in no group and bound to nothing. */
    MALLORY("mallory", List.of());

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
}
