package dev.porthole.protocol;

/**
 * What the peer may still send on a stream. Received bytes use the window up; bytes this side has
 * consumed (written on to their destination) are given back to the peer in WINDOW_UPDATEs once a
 * quarter of the window has accumulated, so updates stay rare while the pipe stays full.
 */
public final class ReceiveWindow {

    private final int window;
    private int remaining;
    private int unacknowledged;

    public ReceiveWindow(int window) {
        this.window = window;
        this.remaining = window;
    }

    /** Accounts for a received DATA frame; more than the window allows is a protocol error. */
    public void received(int bytes) {
        if (bytes > remaining) {
            throw new ProtocolException("peer sent " + bytes + " bytes with only " + remaining + " bytes of window");
        }
        remaining -= bytes;
    }

    /**
     * Records that {@code bytes} were consumed and returns the increment to announce now, or 0 to wait
     * for more.
     */
    public int consumed(int bytes) {
        unacknowledged += bytes;
        if (unacknowledged < window / 4 && remaining > 0) {
            return 0;
        }
        int increment = unacknowledged;
        unacknowledged = 0;
        remaining += increment;
        return increment;
    }

    /** Bytes received and not yet consumed: the most this stream can hold buffered on this side. */
    public int buffered() {
        return window - remaining - unacknowledged;
    }

    public int window() {
        return window;
    }
}
