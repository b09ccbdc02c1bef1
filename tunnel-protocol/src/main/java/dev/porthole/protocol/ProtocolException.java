package dev.porthole.protocol;

import io.netty.handler.codec.DecoderException;

/** The peer broke the protocol; the connection that carried it is closed, nothing else. */
public class ProtocolException extends DecoderException {
    public ProtocolException(String message) {
        super(message);
    }
}
