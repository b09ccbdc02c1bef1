package dev.porthole.relay;

import dev.porthole.protocol.EndReason;

/**
 * Decides one session's end reason from the events on its two streams: the first graceful close or
 * reset names the reason; a relay decision (revocation, expiry, shutdown) overrides a graceful half-close
 * still in progress; after the session ended nothing changes it. Thread-safe.
 */
final class SessionOutcome {

    private EndReason reason;
    private String message = "";
    private boolean forced;
    private boolean ended;

    /** An event from one of the streams; ignored when a reason is already known. */
    synchronized void offer(EndReason candidate, String why) {
        if (reason == null && !ended) {
            reason = candidate;
            message = why;
        }
    }

    /** A relay decision; wins over stream events unless another decision came first. */
    synchronized boolean force(EndReason decision, String why) {
        if (ended || forced) {
            return false;
        }
        forced = true;
        reason = decision;
        message = why;
        return true;
    }

    /** Closes the outcome and returns the final reason. */
    synchronized EndReason end() {
        ended = true;
        if (reason == null) {
            reason = EndReason.CLIENT_CLOSED;
            message = "closed";
        }
        return reason;
    }

    /** Whether a reason is known already (an event or a decision). */
    synchronized boolean decided() {
        return reason != null;
    }

    synchronized String message() {
        return message;
    }

    /** Maps what the agent reported about its target to the session's end reason. */
    static EndReason fromAgent(EndReason streamReason) {
        return streamReason == EndReason.CANCELLED ? EndReason.TARGET_CLOSED : streamReason;
    }

    /** Maps what the client connection reported to the session's end reason. */
    static EndReason fromClient(EndReason streamReason) {
        return streamReason == EndReason.PROTOCOL_ERROR ? EndReason.PROTOCOL_ERROR : EndReason.CLIENT_CLOSED;
    }
}
