package dev.porthole.api.v1alpha1;

/**
 * Where a forward is in its life, as the operator writes it. A forward that expires or is revoked is deleted, so
 * neither has a phase; Rejected and Failed are not final: a forward leaves them when what refused it changes.
 */
public enum Phase {
    /** Not reconciled yet (no status). */
    Pending,
    /** Its agent is injected; it can be used until {@code expiresAt}. */
    Active,
    /** Policy, or its creator's own rights, refuse it; nothing is injected, live sessions are cut. */
    Rejected,
    /** Its target or agent is unavailable (or a pod's agent limit is reached); retried until it expires. */
    Failed
}
