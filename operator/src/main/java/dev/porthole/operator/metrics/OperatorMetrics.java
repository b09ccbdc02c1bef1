package dev.porthole.operator.metrics;

import java.time.Duration;

/**
 * What the relay and the certificate signer report for metrics. Every method has a no-op default, so
 * components built without metrics (unit tests, the demo) use {@link #NONE}.
 */
public interface OperatorMetrics {
    OperatorMetrics NONE = new OperatorMetrics() {
    };

    /** A client session was admitted and opened. */
    default void sessionOpened() {
    }

    /** A session ended after moving these bytes; {@code endReason} is the relay's EndReason name. */
    default void sessionClosed(long bytesFromClient, long bytesToClient, Duration duration, String endReason) {
    }

    /** A client connection was refused by the relay (not in the audience, expired, maxSessions, ...). */
    default void sessionDenied(String endReason) {
    }

    /** An agent authenticated and connected to the relay. */
    default void agentConnected() {
    }

    /** An agent connection was refused (bad token, unknown or ended forward). */
    default void agentRejected() {
    }

    /** A client certificate was issued for a forward. */
    default void credentialIssued() {
    }

    /** A client certificate request was denied. */
    default void credentialDenied() {
    }

    /** The API server did not take the Event of an audit record (its JSON line was written). */
    default void auditEventFailed(String auditReason) {
    }

    /** An audit record of a refusal went to the JSON log only: its Event was withheld (rate limit). */
    default void auditEventWithheld(String auditReason) {
    }

    /** A session was refused because its opening could not be recorded. */
    default void sessionUnrecorded() {
    }
}
