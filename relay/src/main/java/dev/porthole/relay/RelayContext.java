package dev.porthole.relay;

import dev.porthole.protocol.EndReason;
import dev.porthole.protocol.Multiplexer;
import java.time.Clock;
import java.time.Duration;
import dev.porthole.protocol.SessionTicket;
import io.netty.util.concurrent.EventExecutor;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What the relay's connection handlers share: settings, hooks, registry, counters. */
final class RelayContext {

    private static final Logger LOG = LoggerFactory.getLogger(RelayContext.class);

    final Clock clock;
    final Duration keepAlive;
    final Duration handshakeTimeout;
    final int streamWindow;
    final int maxStreamsPerAgent;
    final AgentAuthenticator authenticator;
    final SessionAuthorizer authorizer;
    final SessionListener sessionListener;
    final AgentListener agentListener;
    final ExecutorService hookExecutor;
    final ExecutorService listenerExecutor;
    final ForwardRegistry registry = new ForwardRegistry();
    final AtomicLong sessionsOpened = new AtomicLong();
    final AtomicLong sessionsDenied = new AtomicLong();
    final AtomicLong agentsRejected = new AtomicLong();
    final AtomicLong protocolErrors = new AtomicLong();
    final AtomicLong tlsFailures = new AtomicLong();
    final AtomicLong handshakeTimeouts = new AtomicLong();
    final AtomicLong sessionsUnrecorded = new AtomicLong();
    final AtomicLong reportsDropped = new AtomicLong();
    final AtomicLong dataConnectionsRefused = new AtomicLong();
    /** Sessions opened here whose agent data connection has not arrived yet, by the ticket the agent was sent. */
    final Map<SessionTicket, ClientSession> tickets = new ConcurrentHashMap<>();
    /** Seals the passes this replica grants and opens those any replica granted. */
    final PassSeal passes;
    /** This process among the relay's replicas (in the passes it grants): who holds a pass's control connection. */
    final long replica = new java.security.SecureRandom().nextLong();
    /** Client control connections on this replica, by id: where a session opened here reports its end. */
    final Map<Long, SessionRequests> controls = new ConcurrentHashMap<>();
    /** Passes already used here, until they would have expired anyway: a pass opens one session. */
    final SpentPasses spentPasses;
    final HandshakeBudget agentHandshakes;
    final HandshakeBudget clientHandshakes;
    final HandshakeBudget externalHandshakes;
    final ClientAddresses externalClientAddresses;
    final AtomicLong ids = new AtomicLong();

    RelayContext(RelayServer.Builder b, ExecutorService hookExecutor, ExecutorService listenerExecutor) {
        this.clock = b.clock;
        this.keepAlive = b.keepAlive;
        this.handshakeTimeout = b.handshakeTimeout;
        this.streamWindow = b.streamWindow;
        this.maxStreamsPerAgent = b.maxStreamsPerAgent;
        this.authenticator = b.authenticator;
        this.authorizer = b.authorizer;
        this.sessionListener = b.sessionListener;
        this.agentListener = b.agentListener;
        this.hookExecutor = hookExecutor;
        this.listenerExecutor = listenerExecutor;
        this.passes = PassSeal.derivedFrom(b.serverKey);
        this.spentPasses = new SpentPasses(b.clock);
        this.agentHandshakes = new HandshakeBudget("agent", b.maxPendingHandshakes, b.maxPendingHandshakesPerSource, b.clock);
        this.clientHandshakes = new HandshakeBudget("client", b.maxPendingHandshakes, b.maxPendingHandshakesPerSource, b.clock);
        // behind a PROXY-protocol balancer every connection comes from the balancer: only the total bound applies
        this.externalHandshakes = new HandshakeBudget("external client", b.maxPendingHandshakes,
                b.externalClientAddresses == ClientAddresses.PROXY_PROTOCOL ? b.maxPendingHandshakes
                        : b.maxPendingHandshakesPerSource, b.clock);
        this.externalClientAddresses = b.externalClientAddresses;
    }

    RelayStats stats() {
        List<HandshakeBudget> budgets = List.of(agentHandshakes, clientHandshakes, externalHandshakes);
        return new RelayStats(registry.agents().size(), registry.allSessions().size(), sessionsOpened.get(),
                sessionsDenied.get(), agentsRejected.get(), protocolErrors.get(), tlsFailures.get(),
                handshakeTimeouts.get(), budgets.stream().mapToLong(HandshakeBudget::shed).sum(),
                budgets.stream().mapToInt(HandshakeBudget::pending).sum(), sessionsUnrecorded.get(), reportsDropped.get(),
                dataConnectionsRefused.get());
    }

    Multiplexer.Settings muxSettings(String context, EndReason lostReason, int maxStreams) {
        return new Multiplexer.Settings(streamWindow, maxStreams, context, lostReason);
    }

    /** Runs a hook on the hook executor and continues with its result on {@code loop}. */
    <T> void callHook(EventExecutor loop, Supplier<T> hook, BiConsumer<T, Throwable> then) {
        try {
            CompletableFuture.supplyAsync(hook, hookExecutor).whenCompleteAsync(then, loop);
        } catch (RejectedExecutionException e) {
            then.accept(null, e);
        }
    }

    String nextId(String prefix) {
        // the replica's random part keeps ids apart across replicas and restarts
        return prefix + "-" + Long.toString(ids.incrementAndGet(), 36) + "-"
                + Long.toString(replica & 0xffffffffL, 36);
    }

    /**
     * Runs a listener callback (an audit report: a session closed or denied, an agent connected ...) on the listener
     * thread, in order; a failing listener is logged, not fatal. A report that cannot be queued (the queue holds
     * 100,000) is counted and logged as an error, never dropped silently; the relay's own log line of the event
     * was written before.
     */
    void notify(Runnable callback) {
        try {
            listenerExecutor.execute(() -> {
                try {
                    callback.run();
                } catch (RuntimeException e) {
                    LOG.atError().setCause(e).log("relay listener failed");
                }
            });
        } catch (RejectedExecutionException e) {
            reportsDropped.incrementAndGet();
            LOG.atError().log("relay listener queue full or closed: an audit report was not delivered (see the relay's"
                    + " log line just before)");
        }
    }
}
