package dev.porthole.api.v1alpha1;

/** How widely a forward's client end may be bound. */
public enum BindScope {
    /** 127.0.0.1 only. */
    Loopback,
    /** Addresses reachable from inside the cluster. */
    Cluster,
    /** A relay listener open to {@code sourceRanges}. */
    Public
}
