package dev.porthole.cli;

/** The forwarder cannot start or continue; the message is meant for the user. */
public class ForwarderException extends RuntimeException {
    public ForwarderException(String message) {
        super(message);
    }
}
