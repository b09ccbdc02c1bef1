package dev.porthole.relay;

import dev.porthole.protocol.ForwardRef;
import dev.porthole.protocol.BindScope;
import dev.porthole.protocol.EndReason;
import dev.porthole.protocol.Frame;
import dev.porthole.protocol.MuxHandler;
import dev.porthole.protocol.Multiplexer;
import dev.porthole.protocol.Protocol;
import dev.porthole.protocol.Role;
import dev.porthole.protocol.Stream;
import dev.porthole.protocol.TunnelPipeline;
import dev.porthole.protocol.pki.ClientIdentity;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * First handler on the client listener. Checks the certificate against the requested forward, asks the
 * {@link SessionAuthorizer}, then either refuses with a readable reason, or admits a probe (the client
 * watches the forward until it ends) or a session (spliced onto a new stream of the forward's agent).
 */
final class ClientAdmission extends Admission {

    private static final Logger LOG = LoggerFactory.getLogger(ClientAdmission.class);
    private static final long LINGER_SECONDS = 5;
    /** {@code -Dporthole.relay.pinSessions=false} leaves a session's client connection on its own event loop. */
    static final boolean PIN_SESSIONS = Boolean.parseBoolean(System.getProperty("porthole.relay.pinSessions", "true"));

    /** Whether this is the external client listener (behind the load balancer or Ingress), not the in-cluster one. */
    private final boolean external;

    ClientAdmission(RelayContext relay) {
        this(relay, false);
    }

    ClientAdmission(RelayContext relay, boolean external) {
        super(relay, external ? "external client" : "client");
        this.external = external;
    }

    @Override
    protected void onHello(ChannelHandlerContext ctx, Frame.Hello hello) {
        InetSocketAddress remote = remote(ctx);
        ForwardRef forward;
        try {
            forward = ForwardRef.parse(hello.forward());
        } catch (IllegalArgumentException e) {
            deny(ctx, null, remote, null, e.getMessage());
            return;
        }
        if (hello.role() == Role.AGENT) {
            deny(ctx, null, remote, forward, "this is the client listener; agents use the agent listener");
            return;
        }
        X509Certificate certificate = peerCertificate(ctx);
        ClientIdentity identity;
        try {
            identity = ClientIdentity.fromCertificate(certificate);
        } catch (IllegalArgumentException e) {
            deny(ctx, null, remote, forward, e.getMessage());
            return;
        }
        Instant now = relay.clock.instant();
        String refusal = ClientCheck.refusal(identity, certificate, forward, now);
        if (refusal != null) {
            deny(ctx, identity, remote, forward, refusal);
            return;
        }
        callHook(ctx, () -> relay.authorizer.authorize(identity, forward, remote), (decision, error) -> {
            if (!ctx.channel().isActive()) {
                return;
            }
            if (error != null || decision == null) {
                LOG.atError().setCause(error).addKeyValue("forward", forward).log("session authorizer failed");
                deny(ctx, identity, remote, forward, "authorisation failed on the relay");
            } else if (!decision.allowed()) {
                deny(ctx, identity, remote, forward, decision.reason());
            } else if (external && decision.scope() == BindScope.CLUSTER) {
                // the relay cannot vouch that a client reaching it from outside runs inside the cluster
                deny(ctx, identity, remote, forward, "forward " + forward + " has bind scope Cluster, so it is used only"
                        + " from inside the cluster (the relay's in-cluster address); this connection came through the"
                        + " relay's external address");
            } else if (external && decision.scope() == BindScope.PUBLIC
                    && relay.externalClientAddresses == ClientAddresses.UNKNOWN) {
                deny(ctx, identity, remote, forward, "forward " + forward + " is limited to its sourceRanges, but this"
                        + " relay cannot see client addresses on its external listener (behind a proxy that sends no"
                        + " PROXY protocol header), so it cannot be used through it");
            } else {
                Instant end = identity.notAfter().isBefore(decision.expiresAt()) ? identity.notAfter()
                        : decision.expiresAt();
                if (hello.role() == Role.CLIENT_PROBE) {
                    admitProbe(ctx, hello, identity, decision, end);
                } else {
                    admitSession(ctx, hello, identity, decision, end);
                }
            }
        });
    }

    private void deny(ChannelHandlerContext ctx, ClientIdentity identity, InetSocketAddress remote, ForwardRef forward,
                      String reason) {
        recordDenial(identity, remote, forward, reason);
        refuse(ctx, Frame.Welcome.refuse(EndReason.DENIED, reason));
    }

    /** Counts, logs and reports a denied session. */
    private void recordDenial(ClientIdentity identity, InetSocketAddress remote, ForwardRef forward, String reason) {
        relay.sessionsDenied.incrementAndGet();
        LOG.atInfo().addKeyValue("forward", forward).addKeyValue("peer", remote)
                .addKeyValue("user", identity == null ? null : identity.username()).addKeyValue("reason", reason)
                .log("session denied");
        relay.notify(() -> relay.sessionListener.denied(
                new SessionListener.Denied(identity, remote, forward, EndReason.DENIED, reason)));
    }

    private void admitProbe(ChannelHandlerContext ctx, Frame.Hello hello, ClientIdentity identity, Decision decision,
                            Instant end) {
        admitted();
        ForwardRef forward = identity.forward(); // the one the hello asked for (ClientCheck)
        Multiplexer[] self = new Multiplexer[1];
        Multiplexer mux = new Multiplexer(ctx.channel(),
                relay.muxSettings("probe forward=" + forward + " peer=" + remote(ctx), EndReason.CLIENT_CLOSED, 0),
                hello.window(), null, (reason, message) -> relay.registry.removeWatcher(forward, self[0]));
        self[0] = mux;
        ctx.pipeline().replace(this, TunnelPipeline.APPLICATION, new MuxHandler(mux));
        relay.registry.addWatcher(forward, mux);
        ScheduledFuture<?> expiry = ctx.executor().schedule(() -> mux.close(EndReason.EXPIRED, expiryMessage(forward,
                identity, end)), delayMillis(end), TimeUnit.MILLISECONDS);
        ctx.channel().closeFuture().addListener(f -> expiry.cancel(false));
        ctx.writeAndFlush(Frame.Welcome.accept(decision.scope(), end, "", relay.streamWindow));
        LOG.atInfo().addKeyValue("forward", forward).addKeyValue("peer", remote(ctx))
                .addKeyValue("user", identity.username()).log("client probe admitted");
    }

    private void admitSession(ChannelHandlerContext ctx, Frame.Hello hello, ClientIdentity identity, Decision decision,
                              Instant end) {
        ForwardRef forward = identity.forward(); // the one the hello asked for (ClientCheck)
        AgentConnection agent = relay.registry.agent(forward);
        if (agent == null || !agent.isOpen()) {
            unavailable(ctx, identity, forward);
            return;
        }
        admitted();
        // One thread for both ends of the splice: every DATA frame and every credit then passes between the
        // client and agent streams as a plain call instead of a task on the other connection's event loop.
        EventLoop loop = PIN_SESSIONS ? agent.mux().eventLoop() : ctx.channel().eventLoop();
        TunnelPipeline.moveToEventLoop(ctx.channel(), loop, relay.keepAlive).addListener(f -> {
            if (f.isSuccess()) {
                startSession(ctx, agent, identity, decision, end, hello);
            } else {
                LOG.atWarn().addKeyValue("forward", forward).addKeyValue("peer", remote(ctx))
                        .addKeyValue("error", String.valueOf(f.cause())).log("cannot move session to its agent's event loop");
            }
        });
    }

    private void startSession(ChannelHandlerContext ctx, AgentConnection agent, ClientIdentity identity,
                              Decision decision, Instant end, Frame.Hello hello) {
        ForwardRef forward = identity.forward(); // the one the hello asked for (ClientCheck)
        Channel channel = ctx.channel();
        InetSocketAddress remote = remote(ctx);
        ClientSession session = new ClientSession(relay.nextId("session"), identity, remote, forward,
                relay.clock.instant());
        Multiplexer mux = new Multiplexer(channel,
                relay.muxSettings("session forward=" + forward + " peer=" + remote, EndReason.CLIENT_CLOSED, 0),
                hello.window(), null, (reason, message) -> {
                    if (reason == EndReason.PROTOCOL_ERROR) {
                        relay.protocolErrors.incrementAndGet();
                    }
                });
        ctx.pipeline().replace(this, TunnelPipeline.APPLICATION, new MuxHandler(mux));
        Stream clientStream = mux.adoptStream(Protocol.CLIENT_STREAM_ID, session.clientSide);
        session.clientStream(clientStream);
        agent.mux().eventLoop().execute(() -> {
            if (!agent.isOpen()) {
                channel.eventLoop().execute(() -> unavailable(ctx, identity, forward));
                return;
            }
            Stream agentStream = agent.mux().openStream(session.agentSide);
            session.agentStream(agentStream);
            channel.eventLoop().execute(() -> opened(ctx, session, decision, end));
        });
    }

    private void opened(ChannelHandlerContext ctx, ClientSession session, Decision decision, Instant end) {
        Channel channel = ctx.channel();
        if (!relay.registry.addSession(session, decision.maxSessions())) {
            overLimit(channel, session, decision.maxSessions());
            return;
        }
        // fail closed: the client hears the session is open only once its opening is on the audit record
        SessionListener.Opened record = new SessionListener.Opened(session.id(), session.identity(),
                session.clientAddress(), session.forward(), session.openedAt());
        callHook(ctx, () -> {
            relay.sessionListener.opened(record);
            return Boolean.TRUE;
        }, (recorded, error) -> {
            if (error == null) {
                started(channel, session, decision, end);
            } else {
                unrecorded(channel, session, error);
            }
        });
    }

    private void started(Channel channel, ClientSession session, Decision decision, Instant end) {
        relay.sessionsOpened.incrementAndGet();
        ScheduledFuture<?> expiry = channel.eventLoop().schedule(() -> session.terminate(EndReason.EXPIRED,
                expiryMessage(session.forward(), session.identity(), end)), delayMillis(end), TimeUnit.MILLISECONDS);
        CompletableFuture.allOf(session.clientStream().closeFuture(), session.agentStream().closeFuture())
                .whenCompleteAsync((v, e) -> closed(channel, session, expiry), channel.eventLoop());
        channel.writeAndFlush(Frame.Welcome.accept(decision.scope(), end, session.id(), relay.streamWindow));
        if (!channel.isActive()) {
            session.terminate(EndReason.CLIENT_CLOSED, "client left before the session opened");
        }
        LOG.atInfo().addKeyValue("forward", session.forward()).addKeyValue("session", session.id())
                .addKeyValue("peer", session.clientAddress()).addKeyValue("user", session.identity().username())
                .log("session opened");
    }

    /** The opening could not be recorded: the session is refused and undone, and counted. */
    private void unrecorded(Channel channel, ClientSession session, Throwable error) {
        relay.sessionsUnrecorded.incrementAndGet();
        relay.registry.removeSession(session);
        session.markEnded();
        String reason = "the relay could not record this session in the audit trail, so it is refused; try again";
        Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                ? error.getCause() : error;
        LOG.atError().addKeyValue("forward", session.forward()).addKeyValue("session", session.id())
                .addKeyValue("user", session.identity().username()).addKeyValue("peer", session.clientAddress())
                .addKeyValue("error", String.valueOf(cause)).log("session refused: its opening could not be recorded");
        session.agentStream().reset(EndReason.CANCELLED, "session refused: " + reason);
        channel.writeAndFlush(Frame.Welcome.refuse(EndReason.DENIED, reason)).addListener(ChannelFutureListener.CLOSE);
    }

    /** The forward reached its session limit while this session was being set up: refuse it, as a denial. */
    private void overLimit(Channel channel, ClientSession session, int maxSessions) {
        String reason = "forward " + session.forward() + " already has its maximum of " + maxSessions + " sessions";
        session.agentStream().reset(EndReason.CANCELLED, "session refused: " + reason);
        recordDenial(session.identity(), session.clientAddress(), session.forward(), reason);
        // the admission handler is gone from the pipeline by now: refuse on the channel, not through its context
        channel.writeAndFlush(Frame.Welcome.refuse(EndReason.DENIED, reason)).addListener(ChannelFutureListener.CLOSE);
    }

    private void closed(Channel channel, ClientSession session, ScheduledFuture<?> expiry) {
        expiry.cancel(false);
        relay.registry.removeSession(session);
        session.markEnded();
        EndReason reason = session.outcome().end();
        String message = session.outcome().message();
        Duration duration = Duration.between(session.openedAt(), relay.clock.instant());
        // The client closes the connection once its stream has ended; closing it from here first could reset
        // the TCP connection and destroy data the client has not read yet. Lingering clients are closed later.
        channel.eventLoop().schedule(() -> session.clientStream().multiplexer().close(reason, message),
                LINGER_SECONDS, TimeUnit.SECONDS);
        LOG.atInfo().addKeyValue("forward", session.forward()).addKeyValue("session", session.id())
                .addKeyValue("reason", reason).addKeyValue("bytesFromClient", session.bytesFromClient())
                .addKeyValue("bytesToClient", session.bytesToClient()).addKeyValue("durationMs", duration.toMillis())
                .log("session closed");
        relay.notify(() -> relay.sessionListener.closed(new SessionListener.Closed(session.id(), session.identity(),
                session.clientAddress(), session.forward(), session.bytesFromClient(), session.bytesToClient(),
                duration, reason, message)));
    }

    private void unavailable(ChannelHandlerContext ctx, ClientIdentity identity, ForwardRef forward) {
        String reason = "no agent is connected for forward " + forward;
        relay.sessionsDenied.incrementAndGet();
        LOG.atInfo().addKeyValue("forward", forward).addKeyValue("peer", remote(ctx)).log(reason);
        relay.notify(() -> relay.sessionListener.denied(
                new SessionListener.Denied(identity, remote(ctx), forward, EndReason.AGENT_UNAVAILABLE, reason)));
        admitted();
        ctx.channel().writeAndFlush(Frame.Welcome.refuse(EndReason.AGENT_UNAVAILABLE, reason))
                .addListener(ChannelFutureListener.CLOSE);
    }

    private long delayMillis(Instant end) {
        return Math.max(0, Duration.between(relay.clock.instant(), end).toMillis());
    }

    private static String expiryMessage(ForwardRef forward, ClientIdentity identity, Instant end) {
        return end.equals(identity.notAfter()) ? "client certificate for " + forward + " expired at " + end
                : "forward " + forward + " expired at " + end;
    }

    private static X509Certificate peerCertificate(ChannelHandlerContext ctx) {
        try {
            Certificate[] chain = ctx.pipeline().get(SslHandler.class).engine().getSession().getPeerCertificates();
            return (X509Certificate) chain[0];
        } catch (SSLPeerUnverifiedException e) {
            throw new IllegalStateException("client listener without a verified client certificate", e);
        }
    }
}
