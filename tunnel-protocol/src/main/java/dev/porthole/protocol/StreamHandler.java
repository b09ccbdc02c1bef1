package dev.porthole.protocol;

import io.netty.buffer.ByteBuf;

/** Receives what the peer does on one stream. Called on the stream's connection event loop. */
public interface StreamHandler {

    /**
     * Stream bytes from the peer. The handler owns {@code data} and must call
     * {@link Stream#consumed(int)} once they have gone on to their destination, to grant more credit.
     */
    void onData(Stream stream, ByteBuf data);

    /** The peer will send no more data. */
    void onRemoteClose(Stream stream);

    /** The stream was aborted by the peer or by the loss of its connection. */
    void onReset(Stream stream, EndReason reason, String message);
}
