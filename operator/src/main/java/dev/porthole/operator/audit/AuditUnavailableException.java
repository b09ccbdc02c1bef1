package dev.porthole.operator.audit;

/** An audit record that had to be written was not: what it records must not go ahead. */
public final class AuditUnavailableException extends RuntimeException {
    public AuditUnavailableException(String message) {
        super(message);
    }
}
