package dev.porthole.relay;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bounds one listener's unauthenticated surface: how many connections may be between accept and admission (TLS
 * handshake, HELLO, the authorizer's answer) at once, in all and from one source address. A connection over either
 * bound is closed at accept, before any TLS work is spent on it, and counted; the log says so at most once per
 * {@link #LOG_EVERY}, with the count since. Per-source entries exist only while their source has connections pending,
 * so this holds at most {@code maxPending} entries however many sources try.
 */
final class HandshakeBudget {
    static final Duration LOG_EVERY = Duration.ofSeconds(10);
    private static final Logger LOG = LoggerFactory.getLogger(HandshakeBudget.class);
    private static final AttributeKey<Runnable> PLACE = AttributeKey.valueOf("porthole.handshake.place");

    private final String listener;
    private final int maxPending;
    private final int maxPendingPerSource;
    private final Clock clock;
    private final AtomicInteger pending = new AtomicInteger();
    private final Map<InetAddress, Integer> perSource = new ConcurrentHashMap<>();
    private final AtomicLong shed = new AtomicLong();
    private final AtomicLong shedSinceLog = new AtomicLong();
    private final AtomicReference<Instant> lastLog = new AtomicReference<>(Instant.MIN);

    HandshakeBudget(String listener, int maxPending, int maxPendingPerSource, Clock clock) {
        if (maxPending < 1 || maxPendingPerSource < 1) {
            throw new IllegalArgumentException("handshake limits must be at least 1, got " + maxPending + " and "
                    + maxPendingPerSource);
        }
        this.listener = listener;
        this.maxPending = maxPending;
        this.maxPendingPerSource = maxPendingPerSource;
        this.clock = clock;
    }

    /**
     * Takes a place for the newly accepted {@code channel}, given back when it is {@link #admitted} or closes; false
     * when there is none (the caller closes it).
     */
    boolean enter(Channel channel) {
        InetAddress source = ((InetSocketAddress) channel.remoteAddress()).getAddress();
        String refusal = enter(source);
        if (refusal != null) {
            shed(source, refusal);
            return false;
        }
        AtomicBoolean given = new AtomicBoolean();
        Runnable leave = () -> {
            if (given.compareAndSet(false, true)) {
                leave(source);
            }
        };
        channel.attr(PLACE).set(leave);
        channel.closeFuture().addListener(f -> leave.run());
        return true;
    }

    /** {@code channel} finished admission: its place goes back to the budget. */
    static void admitted(Channel channel) {
        Runnable leave = channel.attr(PLACE).getAndSet(null);
        if (leave != null) {
            leave.run();
        }
    }

    /** Null when a connection from {@code source} may wait for admission; else why not. */
    String enter(InetAddress source) {
        if (pending.incrementAndGet() > maxPending) {
            pending.decrementAndGet();
            return maxPending + " connections already wait for admission on the " + listener + " listener";
        }
        boolean[] room = new boolean[1];
        perSource.compute(source, (address, count) -> {
            int now = count == null ? 0 : count;
            room[0] = now < maxPendingPerSource;
            return room[0] ? Integer.valueOf(now + 1) : count;
        });
        if (!room[0]) {
            pending.decrementAndGet();
            return maxPendingPerSource + " connections from " + source.getHostAddress() + " already wait for admission on the "
                    + listener + " listener";
        }
        return null;
    }

    void leave(InetAddress source) {
        perSource.computeIfPresent(source, (address, count) -> count <= 1 ? null : count - 1);
        pending.decrementAndGet();
    }

    private void shed(InetAddress source, String why) {
        shed.incrementAndGet();
        shedSinceLog.incrementAndGet();
        Instant now = clock.instant();
        Instant last = lastLog.get();
        if (now.isAfter(last.plus(LOG_EVERY)) && lastLog.compareAndSet(last, now)) {
            LOG.atWarn().addKeyValue("listener", listener).addKeyValue("peer", source.getHostAddress())
                    .addKeyValue("shedSinceLastLog", shedSinceLog.getAndSet(0)).addKeyValue("reason", why)
                    .log("connections closed at accept: too many wait for admission");
        }
    }

    int pending() {
        return pending.get();
    }

    int sources() {
        return perSource.size();
    }

    long shed() {
        return shed.get();
    }
}
