package dev.porthole.sidecar;

import dev.porthole.protocol.ClientHandshake;
import dev.porthole.protocol.DataPreamble;
import dev.porthole.protocol.EndReason;
import dev.porthole.protocol.Frame;
import dev.porthole.protocol.MuxHandler;
import dev.porthole.protocol.Multiplexer;
import dev.porthole.protocol.Protocol;
import dev.porthole.protocol.RelayAddress;
import dev.porthole.protocol.ProtocolException;
import dev.porthole.protocol.Role;
import dev.porthole.protocol.SessionHandshake;
import dev.porthole.protocol.SocketSplice;
import dev.porthole.protocol.Stream;
import dev.porthole.protocol.TunnelPipeline;
import dev.porthole.protocol.pki.CertificateDigest;
import dev.porthole.protocol.pki.AgentIdentity;
import dev.porthole.protocol.tls.ForwardPeerTrust;
import dev.porthole.protocol.tls.TlsContexts;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslContext;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tunnel agent. Dials the relays (it never listens) and keeps a control connection, authenticated with its token,
 * to every replica its relay addresses resolve to (a headless Service names each replica; they are looked up again
 * every {@link #DISCOVERY_INTERVAL}), so that whichever replica a client reaches can open its session. For every
 * session a replica opens, it dials a data connection to that replica, runs the end-to-end TLS handshake with the
 * client through it (the agent is the TLS server: it presents its agent certificate and accepts only the client
 * certificate the relay authorised for this forward), then connects to the target and splices the two. The relay sees
 * only ciphertext. Each control connection reconnects with its own backoff while the forward lives (a replica that is
 * no longer resolved is let go); sessions on their data connections go on meanwhile. At its deadline, or when a relay
 * says the forward expired or was revoked, it closes everything and stops. One event loop thread serves all its
 * connections.
 */
public final class Agent implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Agent.class);
    /** How long a finished session's connection waits for the client to close it first (see the client's close grace). */
    private static final long LINGER_SECONDS = 5;
    /** How often the relay addresses are resolved again, to find replicas that came or went. */
    static final Duration DISCOVERY_INTERVAL = Duration.ofSeconds(10);

    private final AgentConfig config;
    private final Clock clock;
    private final EventLoopGroup group = TunnelPipeline.eventLoops(1, "porthole-agent");
    private final EventLoop loop = group.next();
    /** Name lookups block: they run here, never on the event loop. */
    private final ExecutorService resolver = Executors.newSingleThreadExecutor(runnable -> {
        Thread thread = new Thread(runnable, "porthole-agent-resolver");
        thread.setDaemon(true);
        return thread;
    });
    private final SslContext tls;
    private final SslContext sessionTls;
    private final CompletableFuture<String> termination = new CompletableFuture<>();
    /** One per relay replica, by its resolved address (event loop only). */
    private final Map<InetSocketAddress, RelayLink> links = new LinkedHashMap<>();
    /** Data connections of live sessions, with the relay's dial that opened each and the replica that sent it (event loop only). */
    private final Map<Channel, Dialled> sessions = new HashMap<>();
    /** The target splice of each session past its handshake (event loop only). */
    private final Map<Channel, SocketSplice> splices = new HashMap<>();
    private volatile int sessionCount;
    private volatile int connectedRelays;
    private boolean stopping;

    private record Dialled(Frame.Dial dial, RelayLink link) {
    }

    public Agent(AgentConfig config, Clock clock) {
        this.config = config;
        this.clock = clock;
        this.tls = TlsContexts.client(config.ca());
        AgentIdentity identity = AgentIdentity.fromCertificate(config.agentKey().certificate());
        if (!identity.forward().equals(config.forward())) {
            throw new IllegalArgumentException("agent certificate is for forward " + identity.forward() + ", not "
                    + config.forward());
        }
        this.sessionTls = TlsContexts.sessionServer(config.agentKey(),
                ForwardPeerTrust.clientsOf(config.ca(), config.forward(), identity.forwardUid(), clock));
    }

    /** Starts dialling; returns at once. */
    public Agent start() {
        long untilDeadline = Duration.between(clock.instant(), config.deadline()).toMillis();
        LOG.atInfo().addKeyValue("forward", config.forward()).addKeyValue("relays", config.relays())
                .addKeyValue("target", config.targetHost() + ":" + config.targetPort())
                .addKeyValue("deadline", config.deadline()).addKeyValue("tls", TlsContexts.provider())
                .addKeyValue("maxSessions", config.maxSessions()).log("agent starting");
        loop.execute(() -> {
            if (untilDeadline <= 0) {
                stop(EndReason.EXPIRED, "deadline " + config.deadline() + " already passed");
                return;
            }
            loop.schedule(() -> stop(EndReason.EXPIRED, "deadline " + config.deadline() + " reached"),
                    untilDeadline, TimeUnit.MILLISECONDS);
            discover();
        });
        return this;
    }

    /** Completes with a human-readable reason once the agent has stopped (deadline, forward ended, close). */
    public CompletableFuture<String> termination() {
        return termination;
    }

    /** Whether at least one relay replica has this agent's control connection. */
    public boolean isConnected() {
        return connectedRelays > 0;
    }

    /** Sessions currently open (each a data connection and, once the handshake passed, a target connection). */
    public int streamCount() {
        return sessionCount;
    }

    /** Resolves the relay addresses (off the event loop), links new replicas, lets go of vanished ones, and repeats. */
    private void discover() {
        if (stopping) {
            return;
        }
        CompletableFuture.supplyAsync(this::resolve, resolver).whenCompleteAsync((found, error) -> {
            if (stopping) {
                return;
            }
            if (found != null) {
                relink(found);
            }
            // with no replica reached yet (a name not resolving at start), look again soon
            long next = links.isEmpty() ? config.backoffMin().toMillis() : DISCOVERY_INTERVAL.toMillis();
            loop.schedule(this::discover, next, TimeUnit.MILLISECONDS);
        }, loop);
    }

    /** Every address the relay addresses resolve to; a name that does not resolve now keeps its replicas linked. */
    private Map<InetSocketAddress, RelayAddress> resolve() {
        Map<InetSocketAddress, RelayAddress> found = new LinkedHashMap<>();
        for (RelayAddress relay : config.relays()) {
            try {
                for (InetAddress address : InetAddress.getAllByName(relay.host())) {
                    found.putIfAbsent(new InetSocketAddress(address, relay.port()), relay);
                }
            } catch (UnknownHostException e) {
                LOG.atWarn().addKeyValue("forward", config.forward()).addKeyValue("relay", relay)
                        .log("relay address does not resolve (now): " + e.getMessage());
                return null;
            }
        }
        return found;
    }

    private void relink(Map<InetSocketAddress, RelayAddress> found) {
        for (Map.Entry<InetSocketAddress, RelayAddress> entry : found.entrySet()) {
            RelayLink link = links.get(entry.getKey());
            if (link == null) {
                link = new RelayLink(entry.getValue(), entry.getKey());
                links.put(entry.getKey(), link);
                link.connect();
            } else {
                link.retired = false;
            }
        }
        for (RelayLink link : List.copyOf(links.values())) {
            if (!found.containsKey(link.address) && !link.retired) {
                // a replica no longer named: its connection may finish its sessions, but is not dialled again
                link.retired = true;
                LOG.atInfo().addKeyValue("forward", config.forward()).addKeyValue("relay", link)
                        .log("relay replica no longer resolved; not reconnecting to it");
                if (link.mux == null) {
                    links.remove(link.address, link);
                }
            }
        }
    }

    /** The control connection to one relay replica, reconnected with its own backoff. */
    private final class RelayLink {
        final RelayAddress name;
        final InetSocketAddress address;
        final Backoff backoff = new Backoff(config.backoffMin(), config.backoffMax(), ThreadLocalRandom.current());
        Multiplexer mux;
        boolean retired;

        RelayLink(RelayAddress name, InetSocketAddress address) {
            this.name = name;
            this.address = address;
        }

        void connect() {
            if (stopping || retired) {
                links.remove(address, this);
                return;
            }
            Frame.Hello hello = new Frame.Hello(Protocol.VERSION, Role.AGENT, config.forward().toString(), config.token(),
                    config.streamWindow());
            ClientHandshake handshake = new ClientHandshake(hello);
            Channel channel = TunnelPipeline.dial(loop, tls, name.host(), name.port(), address, config.keepAlive(),
                    handshake).channel();
            handshake.result().whenComplete((welcome, error) -> {
                if (error != null) {
                    retry(error.getMessage());
                } else if (!welcome.accepted()) {
                    retry("relay refused the agent: " + welcome.message());
                } else {
                    connected(channel, welcome);
                }
            });
        }

        private void connected(Channel channel, Frame.Welcome welcome) {
            if (stopping) {
                channel.close();
                return;
            }
            backoff.reset();
            Multiplexer[] self = new Multiplexer[1];
            Multiplexer connection = new Multiplexer(channel,
                    new Multiplexer.Settings(config.streamWindow(), 0, "relay=" + this + " forward=" + config.forward(),
                            EndReason.AGENT_LOST),
                    welcome.window(), null, (reason, message) -> disconnected(self[0], reason, message),
                    frame -> onControl(this, frame));
            self[0] = connection;
            channel.pipeline().addLast(TunnelPipeline.APPLICATION, new MuxHandler(connection));
            mux = connection;
            connectedRelays++;
            LOG.atInfo().addKeyValue("forward", config.forward()).addKeyValue("relay", this).log("connected to relay");
        }

        private void disconnected(Multiplexer connection, EndReason reason, String message) {
            if (mux == connection) {
                mux = null;
                connectedRelays--;
            }
            switch (reason) {
                // the forward's end, or its refusal: an agent never outlives either (the operator injects a new one
                // if a rejected forward is allowed again)
                case EXPIRED, REVOKED, REJECTED -> stop(reason, "relay ended the forward: " + message);
                default -> retry("relay connection lost (" + reason + ": " + message + ")");
            }
        }

        private void retry(String why) {
            if (stopping) {
                return;
            }
            if (retired) {
                links.remove(address, this);
                LOG.atInfo().addKeyValue("forward", config.forward()).addKeyValue("relay", this)
                        .log("let go of a relay replica no longer resolved: " + why);
                return;
            }
            Duration delay = backoff.next();
            LOG.atWarn().addKeyValue("forward", config.forward()).addKeyValue("relay", this)
                    .addKeyValue("retryInMs", delay.toMillis()).log(why);
            loop.schedule(this::connect, delay.toMillis(), TimeUnit.MILLISECONDS);
        }

        @Override
        public String toString() {
            return name + " (" + address.getAddress().getHostAddress() + ")";
        }
    }

    private void onControl(RelayLink link, Frame frame) {
        if (!(frame instanceof Frame.Dial dial)) {
            throw new ProtocolException("the relay sends agents no " + frame.getClass().getSimpleName());
        }
        if (stopping) {
            report(link, dial, EndReason.AGENT_EXITED, "agent is stopping", 0, 0);
        } else if (sessions.size() >= config.maxSessions()) {
            report(link, dial, EndReason.AGENT_UNAVAILABLE, "the agent of forward " + config.forward()
                    + " already serves its maximum of " + config.maxSessions() + " sessions", 0, 0);
        } else {
            dialSession(link, dial);
        }
    }

    /** Dials the session's data connection to the replica that asked, and, once the client proved who it is, the target. */
    private void dialSession(RelayLink link, Frame.Dial dial) {
        SessionHandshake handshake = new SessionHandshake("the client");
        Channel channel = TunnelPipeline.dialData(loop, link.address, DataPreamble.agent(dial.ticket()), sessionTls,
                config.keepAlive(), handshake).channel();
        sessions.put(channel, new Dialled(dial, link));
        sessionCount = sessions.size();
        channel.closeFuture().addListener(f -> {
            sessions.remove(channel);
            splices.remove(channel);
            sessionCount = sessions.size();
        });
        handshake.result().whenComplete((certificate, error) -> {
            if (error != null) {
                LOG.atInfo().addKeyValue("forward", config.forward()).addKeyValue("session", dial.sessionId())
                        .log(error.getMessage());
                report(link, dial, EndReason.CANCELLED, error.getMessage(), 0, 0);
                channel.close();
            } else if (!MessageDigest.isEqual(CertificateDigest.sha256(certificate), dial.clientCertificateSha256())) {
                // a valid certificate of this forward, but not the one the relay checked and recorded for this session
                String why = "client certificate is not the one the relay authorised for session " + dial.sessionId();
                LOG.atWarn().addKeyValue("forward", config.forward()).addKeyValue("session", dial.sessionId()).log(why);
                report(link, dial, EndReason.DENIED, why, 0, 0);
                channel.close();
            } else {
                splice(link, dial, channel);
            }
        });
    }

    private void splice(RelayLink link, Frame.Dial dial, Channel channel) {
        Multiplexer session = new Multiplexer(channel,
                new Multiplexer.Settings(Protocol.DEFAULT_WINDOW, 0, "session=" + dial.sessionId() + " forward="
                        + config.forward(), EndReason.CLIENT_CLOSED),
                Protocol.DEFAULT_WINDOW, null, (reason, message) -> { });
        channel.pipeline().replace(SessionHandshake.class, TunnelPipeline.APPLICATION, new MuxHandler(session));
        SocketSplice[] self = new SocketSplice[1];
        SocketSplice splice = new SocketSplice((reason, message, fromTarget, toTarget) -> {
            // the first side to finish names the end, as the relay decided it when it saw the streams
            Boolean targetFirst = self[0].socketEndedFirst();
            // a client that cancels its stream (its local socket went before its half-close was read) ended it, not
            // the target: the relay reads an agent's CANCELLED as the target's doing
            boolean clientCancelled = targetFirst == null && self[0].resetByStreamPeer() && reason == EndReason.CANCELLED;
            EndReason end = clientCancelled ? EndReason.CLIENT_CLOSED
                    : targetFirst == null ? (reason == null ? EndReason.CLIENT_CLOSED : reason)
                    : targetFirst ? EndReason.TARGET_CLOSED : EndReason.CLIENT_CLOSED;
            report(link, dial, end, targetFirst == null && reason != null ? message
                    : end == EndReason.TARGET_CLOSED ? "target closed the connection" : "client closed the connection",
                    toTarget, fromTarget);
            LOG.atDebug().addKeyValue("forward", config.forward()).addKeyValue("session", dial.sessionId())
                    .addKeyValue("reason", end).addKeyValue("bytesFromTarget", fromTarget)
                    .addKeyValue("bytesToTarget", toTarget).log("session ended");
        });
        self[0] = splice;
        splices.put(channel, splice);
        Stream stream = session.adoptStream(Protocol.CLIENT_STREAM_ID, splice);
        splice.attach(stream);
        // the client closes a finished session's connection; one that lingers is closed from here
        stream.closeFuture().whenComplete((reason, e) -> loop.schedule(() -> session.close(EndReason.CLIENT_CLOSED,
                "session ended"), LINGER_SECONDS, TimeUnit.SECONDS));
        new Bootstrap().group(loop).channel(NioSocketChannel.class)
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.RCVBUF_ALLOCATOR, SocketSplice.RECV_ALLOCATOR)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
                .handler(splice)
                .connect(config.targetHost(), config.targetPort())
                .addListener(f -> {
                    if (!f.isSuccess()) {
                        String message = "cannot connect to target " + config.targetHost() + ":" + config.targetPort()
                                + ": " + f.cause().getMessage();
                        LOG.atInfo().addKeyValue("forward", config.forward()).addKeyValue("session", dial.sessionId())
                                .log(message);
                        splice.fail(EndReason.TARGET_REFUSED, message);
                    }
                });
    }

    /**
     * Tells the replica that dialled a session how it ended and what passed, for its audit record (if that control
     * connection is still there).
     */
    private static void report(RelayLink link, Frame.Dial dial, EndReason reason, String message, long toTarget,
                               long fromTarget) {
        Multiplexer control = link.mux;
        if (control != null) {
            control.sendControl(new Frame.Ended(dial.streamId(), reason, message, toTarget, fromTarget));
        }
    }

    private void stop(EndReason reason, String message) {
        if (stopping) {
            return;
        }
        stopping = true;
        resolver.shutdownNow();
        int open = sessions.size();
        EndReason end = reason == EndReason.EXPIRED ? EndReason.EXPIRED : EndReason.AGENT_EXITED;
        // each session's end is reported before the control connections go, so the relay records why
        for (Map.Entry<Channel, Dialled> session : List.copyOf(sessions.entrySet())) {
            SocketSplice splice = splices.get(session.getKey());
            report(session.getValue().link(), session.getValue().dial(), end, message,
                    splice == null ? 0 : splice.bytesToSocket(), splice == null ? 0 : splice.bytesFromSocket());
            MuxHandler handler = session.getKey().pipeline().get(MuxHandler.class);
            if (handler != null) {
                handler.multiplexer().close(end, message);
            } else {
                session.getKey().close();
            }
        }
        for (RelayLink link : List.copyOf(links.values())) {
            if (link.mux != null) {
                link.mux.close(end, message);
            }
        }
        LOG.atInfo().addKeyValue("forward", config.forward()).addKeyValue("reason", reason)
                .addKeyValue("closedSessions", open).log("agent stopping: " + message);
        loop.schedule(() -> {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS)
                    .addListener(f -> termination.complete(message));
        }, 100, TimeUnit.MILLISECONDS);
    }

    /** Stops the agent as at its deadline. */
    @Override
    public void close() {
        try {
            loop.execute(() -> stop(EndReason.AGENT_EXITED, "agent closed"));
        } catch (java.util.concurrent.RejectedExecutionException alreadyStopped) {
            // the event loop is gone: the agent has stopped already
        }
        termination.join();
    }
}
