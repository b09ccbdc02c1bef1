package dev.porthole.relay;

import dev.porthole.protocol.DataPreamble;
import dev.porthole.protocol.EndReason;
import dev.porthole.protocol.ForwardRef;
import dev.porthole.protocol.Frame;
import dev.porthole.protocol.SessionTicket;
import dev.porthole.protocol.pki.ClientIdentity;
import dev.porthole.protocol.DataRefusal;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One client session at the relay replica the client's data connection reached with its {@link SessionPass}; the agent
 * dials its data connection with this session's {@link SessionTicket}, and the two are spliced ({@link RelaySplice}). The bytes
 * between them are the end-to-end TLS session of client and agent; the relay counts them and can cut them, nothing
 * else. It ends once, when both data connections have closed or when it is cut before they paired; {@link #ended()}
 * completes then.
 */
final class ClientSession {

    private final String id;
    private final ClientIdentity identity;
    private final InetSocketAddress clientAddress;
    private final boolean external;
    private final ForwardRef forward;
    private final Instant openedAt;
    private final SessionTicket ticket = SessionTicket.random();
    /** The client's control connection, when it is on this replica: it hears there how the session ends. */
    private final SessionRequests control;
    private final int requestId;
    private final EventLoop loop;
    private final SessionOutcome outcome = new SessionOutcome();
    private final AtomicLong bytesFromClient = new AtomicLong();
    private final AtomicLong bytesToClient = new AtomicLong();
    private final CompletableFuture<Void> ended = new CompletableFuture<>();
    private final AtomicBoolean finished = new AtomicBoolean();
    private volatile AgentConnection agent;
    private volatile int agentStreamId;
    private Channel clientData;
    private Channel agentData;
    private int closedSides;
    private boolean cut;
    private boolean reported;
    /** Payload bytes as the agent counted them; -1 until it reported. */
    private volatile long payloadToTarget = -1;
    private volatile long payloadFromTarget = -1;
    private Runnable onEnd = () -> { };

    ClientSession(String id, ClientIdentity identity, InetSocketAddress clientAddress, boolean external,
                  ForwardRef forward, Instant openedAt, SessionRequests control, int requestId, EventLoop loop) {
        this.id = id;
        this.identity = identity;
        this.clientAddress = clientAddress;
        this.external = external;
        this.forward = forward;
        this.openedAt = openedAt;
        this.control = control;
        this.requestId = requestId;
        this.loop = loop;
    }

    String id() {
        return id;
    }

    ClientIdentity identity() {
        return identity;
    }

    InetSocketAddress clientAddress() {
        return clientAddress;
    }

    ForwardRef forward() {
        return forward;
    }

    Instant openedAt() {
        return openedAt;
    }

    SessionTicket ticket() {
        return ticket;
    }

    SessionOutcome outcome() {
        return outcome;
    }

    /**
     * Payload bytes from the client to the target: the agent's count when it reported one (the relay carries only the
     * end-to-end ciphertext), else what the relay carried (TLS records, slightly more).
     */
    long bytesFromClient() {
        long reported = payloadToTarget;
        return reported >= 0 ? reported : bytesFromClient.get();
    }

    /** Payload bytes from the target to the client; as {@link #bytesFromClient()}. */
    long bytesToClient() {
        long reported = payloadFromTarget;
        return reported >= 0 ? reported : bytesToClient.get();
    }

    /** What the relay carried from the client, end-to-end TLS included. */
    long wireBytesFromClient() {
        return bytesFromClient.get();
    }

    long wireBytesToClient() {
        return bytesToClient.get();
    }

    /** The agent asked to dial, and the id the session has on its control connection. */
    void dialledThrough(AgentConnection agent, int streamId) {
        this.agent = agent;
        this.agentStreamId = streamId;
    }

    AgentConnection agent() {
        return agent;
    }

    int agentStreamId() {
        return agentStreamId;
    }

    /** Runs once, when the session has ended (both data connections closed, or cut before they paired). */
    void onEnd(Runnable callback) {
        this.onEnd = callback;
    }

    /** Completes once the session is over and forgotten by the registry. */
    CompletableFuture<Void> ended() {
        return ended;
    }

    /** A data connection's attempt to join: refused with a reason, or joined, with the other side's if it is here. */
    record Joined(String refusal, Channel other) {
    }

    /**
     * Joins a data connection presenting this session's ticket, unless it may not: each side joins once, a client's
     * from the address and the listener kind its control connection came from. Checked and recorded in one step.
     */
    Joined join(DataPreamble.Side side, Channel channel, InetSocketAddress remote, boolean viaExternal,
                boolean viaAgentListener) {
        Joined joined;
        synchronized (this) {
            String refusal = refusal(side, remote, viaExternal, viaAgentListener);
            if (refusal != null) {
                return new Joined(refusal, null);
            }
            if (side == DataPreamble.Side.AGENT) {
                agentData = channel;
            } else {
                clientData = channel;
            }
            joined = new Joined(null, side == DataPreamble.Side.AGENT ? clientData : agentData);
        }
        channel.closeFuture().addListener(f -> {
            if (!paired()) { // one side came and went before the other: no session will come of it
                if (side == DataPreamble.Side.CLIENT) {
                    cancelledByClient();
                } else {
                    terminate(EndReason.AGENT_LOST, "the agent's data connection closed before the session was set up");
                }
            }
            sideClosed();
        });
        return joined;
    }

    /** The data connections that have joined so far. */
    synchronized java.util.List<Channel> dataChannels() {
        java.util.List<Channel> channels = new java.util.ArrayList<>(2);
        if (clientData != null) {
            channels.add(clientData);
        }
        if (agentData != null) {
            channels.add(agentData);
        }
        return channels;
    }

    /** Whether both data connections have joined. */
    synchronized boolean paired() {
        return clientData != null && agentData != null;
    }

    private String refusal(DataPreamble.Side side, InetSocketAddress remote, boolean viaExternal, boolean viaAgentListener) {
        if (cut || finished.get()) {
            return "session " + id + " has ended";
        }
        if (side == DataPreamble.Side.AGENT) {
            if (!viaAgentListener) {
                return "agents dial the agent listener";
            }
            return agentData != null ? "session " + id + " already has its agent connection" : null;
        }
        if (viaAgentListener) {
            return "clients dial the client listener";
        }
        if (clientData != null) {
            return "session " + id + " already has its client connection";
        }
        if (viaExternal != external) {
            return "the data connection came through another listener than the session's control connection";
        }
        InetAddress expected = clientAddress.getAddress();
        if (!expected.equals(remote.getAddress())) {
            return "the data connection came from " + remote.getAddress().getHostAddress() + ", the session was granted"
                    + " to " + expected.getHostAddress();
        }
        return null;
    }

    AtomicLong counterFor(DataPreamble.Side side) {
        return side == DataPreamble.Side.CLIENT ? bytesFromClient : bytesToClient;
    }

    /**
     * The agent's report of how its end finished and what it passed ({@link Frame.Ended}). Before both data
     * connections are here (the agent refused to dial, or its data connection failed) there is no end-to-end connection
     * the client could hear it on, so the session ends as a relay decision does: the client hears the agent's reason on
     * its control connection, and a side already waiting is closed.
     */
    void agentReported(EndReason reason, String message, long toTarget, long fromTarget) {
        payloadToTarget = toTarget;
        payloadFromTarget = fromTarget;
        outcome.offer(SessionOutcome.fromAgent(reason), message);
        boolean over;
        synchronized (this) {
            reported = true;
            over = closedSides == 2;
        }
        if (over) {
            finish();
        } else if (!paired()) {
            // the agent will not (or could not) set this session up: the client hears why on its control connection;
            // a paired session's ends close their own connection, having told each other why
            terminate(SessionOutcome.fromAgent(reason), message);
        }
    }

    /**
     * Ends the session for a relay decision (revocation, expiry, shutdown, a side that never came): the client hears
     * why on its control connection, and both data connections are closed.
     */
    void terminate(EndReason reason, String message) {
        if (outcome.force(reason, message)) {
            if (control != null) {
                control.ended(requestId, reason, message);
            }
            cutData(new DataRefusal(reason, message));
        }
    }

    /** @param refusal what a client still waiting for the agent's handshake is told, or null */
    private void cutData(DataRefusal refusal) {
        Channel client;
        Channel agentSide;
        boolean nothingJoined;
        synchronized (this) {
            cut = true;
            client = clientData;
            agentSide = agentData;
            nothingJoined = client == null && agentSide == null;
        }
        if (client != null && agentSide == null && refusal != null && client.isActive()) {
            // before pairing no byte of the agent's has reached the client: a refusal says why, where TLS would start
            refusal.sendAndClose(client);
        } else if (client != null) {
            client.close();
        }
        if (agentSide != null) {
            agentSide.close();
        }
        if (nothingJoined) {
            finish();
        } else if (client == null || agentSide == null) {
            // one side never came: the one that did is closed, and no second close will follow
            finish();
        }
    }

    /**
     * A data connection closed. Once both have, the session ends; but the agent's report of how (sent on its control
     * connection, which races the data connections' closes) is awaited for up to {@link #REPORT_GRACE_MILLIS}, so that
     * the audit names the side that ended it rather than a guess.
     */
    private void sideClosed() {
        boolean both;
        boolean awaitReport;
        synchronized (this) {
            closedSides++;
            both = closedSides == 2 || (cut && (clientData == null || agentData == null));
            awaitReport = both && !reported && !outcome.decided() && agent != null && agent.isOpen();
        }
        if (awaitReport) {
            loop.schedule(this::finish, REPORT_GRACE_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS);
        } else if (both) {
            finish();
        }
    }

    /** How long a session whose data connections closed waits for the agent's report of why. */
    static final long REPORT_GRACE_MILLIS = 1000;

    private void finish() {
        if (finished.compareAndSet(false, true)) {
            outcome.end();
            onEnd.run();
            ended.complete(null);
        }
    }

    /** The session never started (its opening could not be recorded): it ends without a close record. */
    void discard() {
        finished.set(true);
        ended.complete(null);
    }

    /** A client (not the relay) closed its session before it was paired, e.g. its local connection went away. */
    void cancelledByClient() {
        outcome.offer(EndReason.CLIENT_CLOSED, "client cancelled the session");
        cutData(null);
    }

    int requestId() {
        return requestId;
    }
}
