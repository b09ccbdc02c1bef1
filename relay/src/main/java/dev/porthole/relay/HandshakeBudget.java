package dev.porthole.relay;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bounds one listener's unauthenticated surface: the connections between accept and admission (TLS handshake, HELLO,
 * the authorizer's answer). One source address may hold at most {@code maxPendingPerSource} of them: its next is
 * closed at accept, before any TLS work is spent on it. All sources together hold at most {@code maxPending}: when that
 * is full, a new connection closes the <em>oldest</em> waiting one instead, so a flood from many addresses cannot lock
 * out a real client, whose handshake takes milliseconds (it would have to open {@code maxPending} connections within
 * that time to push it out). Both are counted; the log says so at most once per {@link #LOG_EVERY}, with the count
 * since. Per-source entries exist only while their source has connections waiting.
 */
final class HandshakeBudget {
    static final Duration LOG_EVERY = Duration.ofSeconds(10);
    private static final Logger LOG = LoggerFactory.getLogger(HandshakeBudget.class);
    private static final AttributeKey<Place> PLACE = AttributeKey.valueOf("porthole.handshake.place");

    private final String listener;
    private final int maxPending;
    private final int maxPendingPerSource;
    private final Clock clock;
    private final AtomicInteger pending = new AtomicInteger();
    private final Map<InetAddress, Integer> perSource = new ConcurrentHashMap<>();
    private final Deque<Place> oldestFirst = new ConcurrentLinkedDeque<>();
    private final AtomicLong shed = new AtomicLong();
    private final AtomicLong shedSinceLog = new AtomicLong();
    private final AtomicReference<Instant> lastLog = new AtomicReference<>(Instant.MIN);

    /** One waiting connection's place; given back once, when it is admitted, closes or is evicted. */
    private final class Place {
        final Channel channel;
        final InetAddress source;
        final AtomicBoolean given = new AtomicBoolean();

        Place(Channel channel, InetAddress source) {
            this.channel = channel;
            this.source = source;
        }

        boolean give() {
            if (!given.compareAndSet(false, true)) {
                return false;
            }
            oldestFirst.remove(this);
            perSource.computeIfPresent(source, (address, count) -> count <= 1 ? null : count - 1);
            pending.decrementAndGet();
            return true;
        }
    }

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
     * Takes a place for the newly accepted {@code channel}, given back when it is {@link #admitted} or closes; false when
     * its source already holds its share (the caller closes it). May close the oldest waiting connection to make room.
     */
    boolean enter(Channel channel) {
        InetAddress source = ((InetSocketAddress) channel.remoteAddress()).getAddress();
        boolean[] room = new boolean[1];
        perSource.compute(source, (address, count) -> {
            int now = count == null ? 0 : count;
            room[0] = now < maxPendingPerSource;
            return room[0] ? Integer.valueOf(now + 1) : count;
        });
        if (!room[0]) {
            shed(source, maxPendingPerSource + " connections from " + source.getHostAddress()
                    + " already wait for admission on the " + listener + " listener");
            return false;
        }
        Place place = new Place(channel, source);
        oldestFirst.addLast(place);
        channel.attr(PLACE).set(place);
        channel.closeFuture().addListener(f -> place.give());
        if (pending.incrementAndGet() > maxPending) {
            evictOldest();
        }
        return true;
    }

    private void evictOldest() {
        while (pending.get() > maxPending) {
            Place oldest = oldestFirst.pollFirst();
            if (oldest == null) {
                return;
            }
            if (oldest.give()) {
                shed(oldest.source, maxPending + " connections wait for admission on the " + listener
                        + " listener; closed the oldest");
                oldest.channel.close();
            }
        }
    }

    /** {@code channel} finished admission: its place goes back to the budget. */
    static void admitted(Channel channel) {
        Place place = channel.attr(PLACE).getAndSet(null);
        if (place != null) {
            place.give();
        }
    }

    private void shed(InetAddress source, String why) {
        shed.incrementAndGet();
        shedSinceLog.incrementAndGet();
        Instant now = clock.instant();
        Instant last = lastLog.get();
        if (now.isAfter(last.plus(LOG_EVERY)) && lastLog.compareAndSet(last, now)) {
            LOG.atWarn().addKeyValue("listener", listener).addKeyValue("peer", source.getHostAddress())
                    .addKeyValue("shedSinceLastLog", shedSinceLog.getAndSet(0)).addKeyValue("reason", why)
                    .log("connections closed before admission: too many wait for it");
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
