package dev.porthole.operator.audit;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How many Events one kind of refusal may write per forward: at most {@code burst} per {@code window}, so that a peer
 * retrying a refused connection in a loop cannot flood the API server with Events (every refusal still gets its JSON
 * audit line). The first Event after a quiet spell says how many were left out. Entries of windows that have passed
 * are swept, so this holds at most the forwards refused within one window.
 */
final class EventThrottle {
    private record Window(Instant start, int written, long withheld) {
    }

    private final int burst;
    private final Duration window;
    private final Map<String, Window> windows = new ConcurrentHashMap<>();

    EventThrottle(int burst, Duration window) {
        this.burst = burst;
        this.window = window;
    }

    /**
     * Empty when the Event for {@code key} (a forward uid and a reason) is withheld; else how many were withheld before
     * it since the last one written.
     */
    OptionalLong admit(String key, Instant now) {
        long[] withheldBefore = {-1};
        windows.compute(key, (k, w) -> {
            if (w == null || !now.isBefore(w.start().plus(window))) {
                withheldBefore[0] = w == null ? 0 : w.withheld();
                return new Window(now, 1, 0);
            }
            if (w.written() < burst) {
                withheldBefore[0] = w.withheld();
                return new Window(w.start(), w.written() + 1, 0);
            }
            return new Window(w.start(), w.written(), w.withheld() + 1);
        });
        if (windows.size() > 1024) {
            windows.values().removeIf(w -> !now.isBefore(w.start().plus(window)) && w.withheld() == 0);
        }
        return withheldBefore[0] < 0 ? OptionalLong.empty() : OptionalLong.of(withheldBefore[0]);
    }

    int size() {
        return windows.size();
    }
}
