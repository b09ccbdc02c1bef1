package dev.porthole.sidecar;

import java.time.Duration;
import java.util.random.RandomGenerator;

/** Exponential reconnect delays with jitter: attempt n waits a random time in [d/2, d], d = min(max, min * 2^n). */
public final class Backoff {

    private final Duration min;
    private final Duration max;
    private final RandomGenerator random;
    private int attempt;

    public Backoff(Duration min, Duration max, RandomGenerator random) {
        this.min = min;
        this.max = max;
        this.random = random;
    }

    public Duration next() {
        long ceiling = Math.min(max.toMillis(), min.toMillis() << Math.min(attempt, 20));
        attempt++;
        long half = ceiling / 2;
        return Duration.ofMillis(half + (half > 0 ? random.nextLong(half + 1) : 0));
    }

    public void reset() {
        attempt = 0;
    }
}
