package dev.porthole.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.porthole.relay.RelayStats;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The relay's unauthenticated surface is bounded: connections that have not finished admission are capped per source
 * address and in all, over real sockets. Loopback holds many source addresses (127.0.0.0/8), which stand in for
 * different clients.
 */
class HandshakeFloodIT {
    private static final int MAX_PENDING = 12;
    private static final int MAX_PER_SOURCE = 4;
    private static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(2);

    private final DataPlane plane = new DataPlane();
    private final List<Socket> sockets = new ArrayList<>();

    @BeforeEach
    void tunedRelay() {
        plane.relay.close();
        plane.relay = plane.startRelay(0, 0, b -> b.maxPendingHandshakes(MAX_PENDING, MAX_PER_SOURCE)
                .handshakeTimeout(HANDSHAKE_TIMEOUT));
    }

    @AfterEach
    void tearDown() throws Exception {
        for (Socket s : sockets) {
            s.close();
        }
        plane.close();
    }

    @Test
    @DisplayName("one source holding its share of silent connections is shed at accept; another source still gets through")
    void perSourceCap() throws Exception {
        // given: one source fills its share with connections that never say a word
        for (int i = 0; i < MAX_PER_SOURCE; i++) {
            silent("127.0.0.2");
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> plane.relay.stats().handshakesPending() == MAX_PER_SOURCE);

        // when
        Socket shed = silent("127.0.0.2");

        // then: the relay closed it without a word, and counts it
        assertThat(closedByRelay(shed)).isTrue();
        assertThat(plane.relay.stats().connectionsShed()).isEqualTo(1);
        // and another source completes a TLS handshake while the first still waits
        try (SSLSocket other = tls("127.0.0.3")) {
            other.startHandshake();
            assertThat(other.getSession().getProtocol()).isEqualTo("TLSv1.3");
        }
        assertThat(plane.relay.stats().connectionsShed()).isEqualTo(1);
    }

    @Test
    @DisplayName("when many sources fill the listener's budget, a newcomer still gets in and the oldest waiting one is closed")
    void fullBudgetMakesRoomForNewcomers() throws Exception {
        // given: three sources fill the listener's whole budget, the first connection oldest
        List<Socket> waiting = new ArrayList<>();
        for (int source = 2; source < 2 + MAX_PENDING / MAX_PER_SOURCE; source++) {
            for (int i = 0; i < MAX_PER_SOURCE; i++) {
                waiting.add(silent("127.0.0." + source));
                if (waiting.size() == 1) {
                    await().atMost(Duration.ofSeconds(5)).until(() -> plane.relay.stats().handshakesPending() == 1);
                }
            }
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> plane.relay.stats().handshakesPending() == MAX_PENDING);

        // when: a fresh source connects and completes a TLS handshake
        try (SSLSocket fresh = tls("127.0.0.9")) {
            fresh.startHandshake();

            // then: it got in; the oldest waiting connection made room
            assertThat(fresh.getSession().isValid()).isTrue();
            assertThat(closedByRelay(waiting.get(0))).isTrue();
            assertThat(plane.relay.stats().connectionsShed()).isEqualTo(1);
        }

        // and when the silent ones reach the handshake timeout, nothing is held for them
        RelayStats after = await().atMost(HANDSHAKE_TIMEOUT.plusSeconds(5))
                .until(plane.relay::stats, s -> s.handshakesPending() == 0);
        assertThat(after.handshakeTimeouts()).isGreaterThanOrEqualTo(MAX_PENDING - 1);
    }

    @Test
    @DisplayName("a flood of 500 connections from one source that close at once leaves no place taken")
    void churnLeavesNothing() throws Exception {
        // when
        for (int i = 0; i < 500; i++) {
            try (Socket s = new Socket()) {
                s.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.4"), 0));
                s.connect(plane.relay.agentAddress());
            }
        }

        // then: every place is given back (some were shed while the relay had not yet seen the others close)
        RelayStats stats = await().atMost(Duration.ofSeconds(10)).until(plane.relay::stats, s -> s.handshakesPending() == 0);
        assertThat(stats.connectionsShed()).isLessThan(500);
        try (SSLSocket after = tls("127.0.0.4")) {
            after.startHandshake();
            assertThat(after.getSession().isValid()).isTrue();
        }
    }

    @Test
    @DisplayName("5,000 unauthenticated connections held open from 40 addresses: the relay holds at most its budget, and a real session opens in under a second")
    void fiveThousandHeldOpen() throws Exception {
        // given: a relay with the production limits and a working forward
        plane.relay.close();
        plane.relay = plane.startRelay(0, 0, b -> b.handshakeTimeout(Duration.ofSeconds(30)));
        try (Targets.Target echo = Targets.echo()) {
            plane.agent(echo.port());
            await().atMost(Duration.ofSeconds(10)).until(() -> plane.relay.isAgentConnected(DataPlane.FORWARD));
            Forwarder forwarder = plane.forwarder();
            long directBefore = io.netty.buffer.PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();

            // when: 5,000 connections to the client listener that never say a word
            for (int i = 0; i < 5000; i++) {
                Socket s = new Socket();
                s.bind(new InetSocketAddress(InetAddress.getByName("127.0.1." + (10 + i % 40)), 0));
                s.connect(plane.relay.clientAddress());
                sockets.add(s);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> plane.relay.stats().connectionsShed() >= 5000 - 1024);

            // then: the relay holds no more than its budget, and a real session opens and echoes within a second
            RelayStats held = plane.relay.stats();
            assertThat(held.handshakesPending()).isLessThanOrEqualTo(1024);
            long started = System.nanoTime();
            try (Socket session = new Socket()) {
                session.connect(forwarder.localAddress(), 1000);
                session.getOutputStream().write("real".getBytes());
                assertThat(session.getInputStream().readNBytes(4)).isEqualTo("real".getBytes());
            }
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(1));
            assertThat(io.netty.buffer.PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory() - directBefore)
                    .as("direct memory the held connections cost").isLessThan(64L * 1024 * 1024);
        }
    }

    private Socket silent(String source) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(InetAddress.getByName(source), 0));
        s.connect(plane.relay.agentAddress());
        sockets.add(s);
        return s;
    }

    /** Whether the relay closed {@code s} (end of stream) within a second, having sent nothing. */
    private static boolean closedByRelay(Socket s) throws IOException {
        s.setSoTimeout(1000);
        InputStream in = s.getInputStream();
        try {
            return in.read() == -1;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset by the relay
        }
    }

    /** A TLS client socket from {@code source} to the agent listener (which asks for no client certificate). */
    private SSLSocket tls(String source) throws Exception {
        SSLContext context = plane.sslContext(null);
        Socket raw = new Socket();
        raw.bind(new InetSocketAddress(InetAddress.getByName(source), 0));
        raw.connect(plane.relay.agentAddress());
        return (SSLSocket) context.getSocketFactory().createSocket(raw, "localhost", plane.relay.agentPort(), true);
    }
}
