package dev.porthole.protocol;

/** Learns how a multiplexed connection ended, once. */
@FunctionalInterface
public interface ConnectionObserver {

    /** The connection closed; {@code reason} is the best known cause (GOAWAY, local shutdown, error, loss). */
    void closed(EndReason reason, String message);
}
