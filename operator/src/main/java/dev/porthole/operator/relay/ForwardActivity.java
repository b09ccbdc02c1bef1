package dev.porthole.operator.relay;

import dev.porthole.protocol.ForwardRef;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * What the in-process relay observes per forward (agent connected, session counters), read by the
 * reconciler into {@code status}. Session changes are coalesced: listeners hear about a forward at most
 * once per {@link #COALESCE} window, so a busy forward does not flood the API server with status
 * patches; agent connects and disconnects are reported at once.
 */
public final class ForwardActivity implements AutoCloseable {
    public static final Duration COALESCE = Duration.ofSeconds(3);

    public record Snapshot(boolean agentConnected, Instant agentConnectedAt, long active, long total,
                           long bytesIn, long bytesOut) {
        static final Snapshot EMPTY = new Snapshot(false, null, 0, 0, 0, 0);
    }

    private final Map<ForwardRef, Snapshot> byForward = new ConcurrentHashMap<>();
    private final Map<ForwardRef, Boolean> pending = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "porthole-activity");
        t.setDaemon(true);
        return t;
    });
    private volatile Consumer<ForwardRef> listener = forward -> { };

    public void onChange(Consumer<ForwardRef> listener) {
        this.listener = listener;
    }

    public Snapshot of(ForwardRef forward) {
        return byForward.getOrDefault(forward, Snapshot.EMPTY);
    }

    public long activeSessions(ForwardRef forward) {
        return of(forward).active();
    }

    void agentConnected(ForwardRef forward, Instant at) {
        byForward.compute(forward, (k, s) -> {
            Snapshot c = s == null ? Snapshot.EMPTY : s;
            return new Snapshot(true, at, c.active(), c.total(), c.bytesIn(), c.bytesOut());
        });
        listener.accept(forward);
    }

    void agentDisconnected(ForwardRef forward) {
        byForward.computeIfPresent(forward, (k, c) ->
                new Snapshot(false, c.agentConnectedAt(), c.active(), c.total(), c.bytesIn(), c.bytesOut()));
        listener.accept(forward);
    }

    void sessionOpened(ForwardRef forward) {
        byForward.compute(forward, (k, s) -> {
            Snapshot c = s == null ? Snapshot.EMPTY : s;
            return new Snapshot(c.agentConnected(), c.agentConnectedAt(), c.active() + 1, c.total() + 1, c.bytesIn(), c.bytesOut());
        });
        coalesce(forward);
    }

    void sessionClosed(ForwardRef forward, long bytesIn, long bytesOut) {
        byForward.computeIfPresent(forward, (k, c) -> new Snapshot(c.agentConnected(), c.agentConnectedAt(),
                Math.max(0, c.active() - 1), c.total(), c.bytesIn() + bytesIn, c.bytesOut() + bytesOut));
        coalesce(forward);
    }

    void forget(ForwardRef forward) {
        byForward.remove(forward);
    }

    /** How many forwards this remembers (each until it is forgotten). */
    int size() {
        return byForward.size();
    }

    /** Runs {@code task} on this object's timer after {@code delay}. */
    void later(Duration delay, Runnable task) {
        timer.schedule(task, delay.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void coalesce(ForwardRef forward) {
        if (pending.putIfAbsent(forward, Boolean.TRUE) == null) {
            timer.schedule(() -> {
                pending.remove(forward);
                listener.accept(forward);
            }, COALESCE.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
