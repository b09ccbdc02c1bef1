package dev.porthole.api.v1alpha1;

/** Lifecycle of a forward. Expired, Revoked and Rejected are terminal. */
public enum Phase {
    Pending, Active, Expired, Revoked, Rejected, Failed;

    public boolean isTerminal() {
        return this == Expired || this == Revoked || this == Rejected;
    }
}
