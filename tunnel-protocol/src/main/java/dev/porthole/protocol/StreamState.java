package dev.porthole.protocol;

/**
 * Half-close state of one stream: each side sends CLOSE when it has no more data; the stream ends
 * when both have, or at once on RESET.
 */
public final class StreamState {

    private boolean localClosed;
    private boolean remoteClosed;
    private boolean reset;

    /** Marks our sending side done; returns false when it already was (or the stream is reset). */
    public boolean closeLocal() {
        if (localClosed || reset) {
            return false;
        }
        localClosed = true;
        return true;
    }

    /** The peer sent CLOSE; a second CLOSE is a protocol error. */
    public void remoteClose(int streamId) {
        if (remoteClosed) {
            throw new ProtocolException("second CLOSE on stream " + streamId);
        }
        remoteClosed = true;
    }

    /** The peer sent DATA: only valid before its CLOSE. */
    public void checkReceive(int streamId) {
        if (remoteClosed) {
            throw new ProtocolException("DATA after CLOSE on stream " + streamId);
        }
    }

    /** Aborts the stream; returns false when it had already ended. */
    public boolean reset() {
        if (isTerminated()) {
            return false;
        }
        reset = true;
        return true;
    }

    public boolean isLocalClosed() {
        return localClosed || reset;
    }

    public boolean isRemoteClosed() {
        return remoteClosed || reset;
    }

    public boolean isReset() {
        return reset;
    }

    public boolean isTerminated() {
        return reset || (localClosed && remoteClosed);
    }
}
