package dev.porthole.sidecar;

import dev.porthole.protocol.ClientHandshake;
import dev.porthole.protocol.EndReason;
import dev.porthole.protocol.Frame;
import dev.porthole.protocol.MuxHandler;
import dev.porthole.protocol.Multiplexer;
import dev.porthole.protocol.Protocol;
import dev.porthole.protocol.Role;
import dev.porthole.protocol.SocketSplice;
import dev.porthole.protocol.Stream;
import dev.porthole.protocol.StreamHandler;
import dev.porthole.protocol.TunnelPipeline;
import dev.porthole.protocol.tls.TlsContexts;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslContext;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tunnel agent. Dials the relay (it never listens), authenticates with its token, and for every
 * stream the relay opens connects to the target and splices the two. Reconnects with backoff while the
 * forward lives; at its deadline, or when the relay says the forward expired or was revoked, it closes
 * its streams and stops. One event loop thread serves the relay connection and all target sockets.
 */
public final class Agent implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Agent.class);

    private final AgentConfig config;
    private final Clock clock;
    private final EventLoopGroup group = TunnelPipeline.eventLoops(1, "porthole-agent");
    private final EventLoop loop = group.next();
    private final SslContext tls;
    private final Backoff backoff;
    private final CompletableFuture<String> termination = new CompletableFuture<>();
    private volatile Multiplexer mux;
    private boolean stopping;

    public Agent(AgentConfig config, Clock clock) {
        this.config = config;
        this.clock = clock;
        this.tls = TlsContexts.client(config.ca());
        this.backoff = new Backoff(config.backoffMin(), config.backoffMax(), ThreadLocalRandom.current());
    }

    /** Starts dialling; returns at once. */
    public Agent start() {
        long untilDeadline = Duration.between(clock.instant(), config.deadline()).toMillis();
        LOG.atInfo().addKeyValue("forward", config.forward()).addKeyValue("relay", relay())
                .addKeyValue("target", config.targetHost() + ":" + config.targetPort())
                .addKeyValue("deadline", config.deadline()).addKeyValue("tls", TlsContexts.provider())
                .log("agent starting");
        loop.execute(() -> {
            if (untilDeadline <= 0) {
                stop(EndReason.EXPIRED, "deadline " + config.deadline() + " already passed");
                return;
            }
            loop.schedule(() -> stop(EndReason.EXPIRED, "deadline " + config.deadline() + " reached"),
                    untilDeadline, TimeUnit.MILLISECONDS);
            connect();
        });
        return this;
    }

    /** Completes with a human-readable reason once the agent has stopped (deadline, forward ended, close). */
    public CompletableFuture<String> termination() {
        return termination;
    }

    public boolean isConnected() {
        Multiplexer current = mux;
        return current != null && current.channel().isActive();
    }

    /** Streams currently open to the target. */
    public int streamCount() {
        Multiplexer current = mux;
        return current == null ? 0 : current.streamCount();
    }

    private void connect() {
        if (stopping) {
            return;
        }
        Frame.Hello hello = new Frame.Hello(Protocol.VERSION, Role.AGENT, config.forward().toString(), config.token(),
                config.streamWindow());
        ClientHandshake handshake = new ClientHandshake(hello);
        Channel channel = TunnelPipeline.dial(loop, tls, config.relayHost(), config.relayPort(), config.keepAlive(),
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
        Multiplexer connection = new Multiplexer(channel,
                new Multiplexer.Settings(config.streamWindow(), 4096, "relay=" + relay() + " forward=" + config.forward(),
                        EndReason.AGENT_LOST),
                welcome.window(), this::accept, this::disconnected);
        channel.pipeline().addLast(TunnelPipeline.APPLICATION, new MuxHandler(connection));
        mux = connection;
        LOG.atInfo().addKeyValue("forward", config.forward()).addKeyValue("relay", relay())
                .log("connected to relay");
    }

    private StreamHandler accept(Stream stream) {
        SocketSplice splice = new SocketSplice((reason, message, fromTarget, toTarget) -> LOG.atDebug()
                .addKeyValue("forward", config.forward()).addKeyValue("stream", stream.id())
                .addKeyValue("reason", reason).addKeyValue("bytesFromTarget", fromTarget)
                .addKeyValue("bytesToTarget", toTarget).log("stream ended"));
        splice.attach(stream);
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
                        LOG.atInfo().addKeyValue("forward", config.forward()).addKeyValue("stream", stream.id())
                                .log(message);
                        splice.fail(EndReason.TARGET_REFUSED, message);
                    }
                });
        return splice;
    }

    private void disconnected(EndReason reason, String message) {
        mux = null;
        switch (reason) {
            // the forward's end, or its refusal: an agent never outlives either (the operator injects a new one if
            // a rejected forward is allowed again)
            case EXPIRED, REVOKED, REJECTED -> stop(reason, "relay ended the forward: " + message);
            default -> retry("relay connection lost (" + reason + ": " + message + ")");
        }
    }

    private void retry(String why) {
        if (stopping) {
            return;
        }
        Duration delay = backoff.next();
        LOG.atWarn().addKeyValue("forward", config.forward()).addKeyValue("relay", relay())
                .addKeyValue("retryInMs", delay.toMillis()).log(why);
        loop.schedule(this::connect, delay.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void stop(EndReason reason, String message) {
        if (stopping) {
            return;
        }
        stopping = true;
        Multiplexer current = mux;
        int streams = current == null ? 0 : current.streamCount();
        if (current != null) {
            current.close(reason == EndReason.EXPIRED ? EndReason.EXPIRED : EndReason.AGENT_EXITED, message);
        }
        LOG.atInfo().addKeyValue("forward", config.forward()).addKeyValue("reason", reason)
                .addKeyValue("closedStreams", streams).log("agent stopping: " + message);
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

    private String relay() {
        return config.relayHost() + ":" + config.relayPort();
    }
}
