package dev.porthole.operator.reconcile;

/** The target cannot be reached now (absent, not Running and Ready, unknown port); the message says which. */
public class TargetUnavailableException extends Exception {
    public TargetUnavailableException(String message) {
        super(message);
    }
}
