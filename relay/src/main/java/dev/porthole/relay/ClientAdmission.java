package dev.porthole.relay;

import dev.porthole.protocol.BindScope;
import dev.porthole.protocol.EndReason;
import dev.porthole.protocol.ForwardRef;
import dev.porthole.protocol.Frame;
import dev.porthole.protocol.Multiplexer;
import dev.porthole.protocol.MuxHandler;
import dev.porthole.protocol.Role;
import dev.porthole.protocol.TunnelPipeline;
import dev.porthole.protocol.pki.ClientIdentity;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * First handler of a client's control connection. Checks the certificate against the requested forward and asks the
 * {@link SessionAuthorizer}; then either refuses with a readable reason, or admits the connection: the client learns
 * the forward's bind scope and expiry, asks for sessions on it ({@link SessionRequests}), and hears when the forward
 * ends.
 */
final class ClientAdmission extends Admission {

    private static final Logger LOG = LoggerFactory.getLogger(ClientAdmission.class);

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
        if (hello.role() != Role.CLIENT) {
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
        String refusal = ClientCheck.refusal(identity, certificate, forward, relay.clock.instant());
        if (refusal != null) {
            deny(ctx, identity, remote, forward, refusal);
            return;
        }
        callHook(ctx, () -> relay.authorizer.authorize(identity, forward, remote), (decision, error) -> {
            if (!ctx.channel().isActive()) {
                return;
            }
            String denial = denial(error, decision, forward, external, relay.externalClientAddresses);
            if (denial != null) {
                deny(ctx, identity, remote, forward, denial);
            } else {
                admit(ctx, hello, identity, certificate, decision);
            }
        });
    }

    /**
     * Why an authorizer's answer ({@code error} if it failed) does not allow the forward through this listener, or null
     * when it does. The same for the control connection and for every session on it.
     */
    static String denial(Throwable error, Decision decision, ForwardRef forward, boolean external,
                         ClientAddresses externalAddresses) {
        if (error != null || decision == null) {
            LOG.atError().setCause(error).addKeyValue("forward", forward).log("session authorizer failed");
            return "authorisation failed on the relay";
        } else if (!decision.allowed()) {
            return decision.reason();
        } else if (external && decision.scope() == BindScope.CLUSTER) {
            // the relay cannot vouch that a client reaching it from outside runs inside the cluster
            return "forward " + forward + " has bind scope Cluster, so it is used only from inside the cluster (the"
                    + " relay's in-cluster address); this connection came through the relay's external address";
        } else if (external && decision.scope() == BindScope.PUBLIC && externalAddresses == ClientAddresses.UNKNOWN) {
            return "forward " + forward + " is limited to its sourceRanges, but this relay cannot see client addresses"
                    + " on its external listener (behind a proxy that sends no PROXY protocol header), so it cannot be"
                    + " used through it";
        }
        return null;
    }

    /** The end of a session or connection: the certificate's notAfter or the forward's expiry, whichever comes first. */
    static Instant end(ClientIdentity identity, Decision decision) {
        return identity.notAfter().isBefore(decision.expiresAt()) ? identity.notAfter() : decision.expiresAt();
    }

    static String expiryMessage(ForwardRef forward, ClientIdentity identity, Instant end) {
        return end.equals(identity.notAfter()) ? "client certificate for " + forward + " expired at " + end
                : "forward " + forward + " expired at " + end;
    }

    private void deny(ChannelHandlerContext ctx, ClientIdentity identity, InetSocketAddress remote, ForwardRef forward,
                      String reason) {
        recordDenial(relay, identity, remote, forward, reason);
        refuse(ctx, Frame.Welcome.refuse(EndReason.DENIED, reason));
    }

    /** Counts, logs and reports a denied connection or session. */
    static void recordDenial(RelayContext relay, ClientIdentity identity, InetSocketAddress remote, ForwardRef forward,
                             String reason) {
        recordDenial(relay, identity, remote, forward, EndReason.DENIED, reason);
    }

    static void recordDenial(RelayContext relay, ClientIdentity identity, InetSocketAddress remote, ForwardRef forward,
                             EndReason why, String reason) {
        relay.sessionsDenied.incrementAndGet();
        LOG.atInfo().addKeyValue("forward", forward).addKeyValue("peer", remote)
                .addKeyValue("user", identity == null ? null : identity.username()).addKeyValue("reason", reason)
                .log("session denied");
        relay.notify(() -> relay.sessionListener.denied(new SessionListener.Denied(identity, remote, forward, why, reason)));
    }

    private void admit(ChannelHandlerContext ctx, Frame.Hello hello, ClientIdentity identity, X509Certificate certificate,
                       Decision decision) {
        admitted();
        ForwardRef forward = identity.forward(); // the one the hello asked for (ClientCheck)
        InetSocketAddress remote = remote(ctx);
        Instant end = end(identity, decision);
        Multiplexer[] self = new Multiplexer[1];
        SessionRequests requests = new SessionRequests(relay, identity, certificate, remote, external);
        Multiplexer mux = new Multiplexer(ctx.channel(),
                relay.muxSettings("client forward=" + forward + " peer=" + remote, EndReason.CLIENT_CLOSED, 0),
                hello.window(), null, (reason, message) -> {
                    relay.registry.removeWatcher(forward, self[0]);
                    requests.controlClosed();
                    if (reason == EndReason.PROTOCOL_ERROR) {
                        relay.protocolErrors.incrementAndGet();
                    }
                }, requests::onControl);
        self[0] = mux;
        requests.attach(mux);
        ctx.pipeline().replace(this, TunnelPipeline.APPLICATION, new MuxHandler(mux));
        relay.registry.addWatcher(forward, mux);
        ScheduledFuture<?> expiry = ctx.executor().schedule(() -> mux.close(EndReason.EXPIRED,
                expiryMessage(forward, identity, end)), delayMillis(end), TimeUnit.MILLISECONDS);
        ctx.channel().closeFuture().addListener(f -> expiry.cancel(false));
        ctx.writeAndFlush(Frame.Welcome.accept(decision.scope(), end, "", relay.streamWindow));
        LOG.atInfo().addKeyValue("forward", forward).addKeyValue("peer", remote)
                .addKeyValue("user", identity.username()).log("client connected");
    }

    private long delayMillis(Instant end) {
        return Math.max(0, Duration.between(relay.clock.instant(), end).toMillis());
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
