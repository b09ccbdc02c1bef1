package dev.porthole.protocol;

/** Decides what to do with a stream the peer OPENed. */
@FunctionalInterface
public interface StreamAcceptor {

    /** Returns the handler for {@code stream}; the acceptor may instead reset the stream and return null. */
    StreamHandler accept(Stream stream);
}
