package dev.porthole.cli;

import dev.porthole.protocol.ForwardRef;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.porthole.protocol.BindScope;
import dev.porthole.protocol.EndReason;
import dev.porthole.protocol.Frame;
import dev.porthole.protocol.FrameEncoder;
import dev.porthole.protocol.Protocol;
import dev.porthole.protocol.Role;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Random and mutated frames and handshakes against both relay listeners, then a real session. */
class RelayFuzzIT {

    private static final int CONNECTIONS_PER_LISTENER = 200;
    private static final int FRAMES_PER_CONNECTION = 26;

    private final DataPlane plane = new DataPlane();

    @AfterEach
    void tearDown() throws Exception {
        plane.close();
    }

    @Test
    @DisplayName("after 10,000+ random and mutated frames, handshakes and data-connection preambles on both listeners the"
            + " relay still serves a session")
    void relaySurvivesFuzzing() throws Exception {
        // given
        try (Targets.Target echo = Targets.echo()) {
            plane.agent(echo.port());
            await().atMost(Duration.ofSeconds(10)).until(() -> plane.relay.isAgentConnected(DataPlane.FORWARD));
            SSLContext agentSide = plane.sslContext(null);
            SSLContext clientSide = plane.sslContext(plane.clientKey(DataPlane.FORWARD, Instant.now().plusSeconds(600)));
            AtomicInteger framesSent = new AtomicInteger();
            ExecutorService pool = Executors.newFixedThreadPool(4);
            List<Future<?>> runs = new ArrayList<>();
            // when
            for (int i = 0; i < CONNECTIONS_PER_LISTENER; i++) {
                long seed = i;
                runs.add(pool.submit(() -> fuzz(agentSide, plane.relay.agentPort(), seed, Role.AGENT, framesSent)));
                runs.add(pool.submit(() -> fuzz(clientSide, plane.relay.clientPort(), seed + 1_000_000,
                        Role.CLIENT, framesSent)));
                runs.add(pool.submit(() -> fuzzData(plane.relay.agentPort(), seed + 2_000_000, framesSent)));
                runs.add(pool.submit(() -> fuzzData(plane.relay.clientPort(), seed + 3_000_000, framesSent)));
            }
            for (Future<?> run : runs) {
                run.get();
            }
            pool.shutdown();
            // then
            assertThat(framesSent.get()).isGreaterThanOrEqualTo(10_000);
            await().atMost(Duration.ofSeconds(10)).until(() -> plane.relay.stats().protocolErrors() > 100);
            await().atMost(Duration.ofSeconds(10)).until(() -> plane.relay.stats().dataConnectionsRefused()
                    >= CONNECTIONS_PER_LISTENER);
            assertThat(plane.relay.stats().sessionsActive()).as("no forged preamble joined a session").isZero();
            assertThat(plane.relay.isAgentConnected(DataPlane.FORWARD)).isTrue();
            Forwarder forwarder = plane.forwarder();
            try (Socket socket = new Socket()) {
                socket.connect(forwarder.localAddress());
                socket.getOutputStream().write("still serving".getBytes());
                socket.shutdownOutput();
                assertThat(new String(socket.getInputStream().readAllBytes())).isEqualTo("still serving");
            }
        }
    }

    private void fuzz(SSLContext context, int port, long seed, Role role, AtomicInteger framesSent) {
        Random random = new Random(seed);
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("localhost", port)) {
            socket.setSoTimeout(2000);
            socket.startHandshake();
            OutputStream out = socket.getOutputStream();
            for (int i = 0; i < FRAMES_PER_CONNECTION; i++) {
                out.write(fuzzedFrame(random, role));
                framesSent.incrementAndGet();
            }
            out.flush();
            socket.getInputStream().read(new byte[4096]);
        } catch (IOException expected) {
            // the relay closes the connection at the first bad frame
        }
    }

    /**
     * A plain connection that looks like a data connection: the preamble's magic, then a mutated rest (version, side,
     * length, an agent ticket no session has or a client pass no relay sealed), and noise after it. The relay closes
     * it; nothing joins or opens a session.
     */
    private void fuzzData(int port, long seed, AtomicInteger framesSent) {
        Random random = new Random(seed);
        try (Socket socket = new Socket("localhost", port)) {
            socket.setSoTimeout(2000);
            int side = 1 + random.nextInt(2);
            byte[] credential = new byte[side == 2 ? dev.porthole.protocol.SessionTicket.LENGTH : 1 + random.nextInt(400)];
            random.nextBytes(credential);
            java.nio.ByteBuffer preamble = java.nio.ByteBuffer.allocate(dev.porthole.protocol.DataPreamble.HEADER_LENGTH
                    + credential.length);
            preamble.putInt(dev.porthole.protocol.DataPreamble.MAGIC).putShort((short) Protocol.VERSION)
                    .put((byte) side).putShort((short) credential.length).put(credential);
            byte[] bytes = preamble.array();
            int flips = random.nextInt(3);
            for (int f = 0; f < flips; f++) {
                bytes[1 + random.nextInt(bytes.length - 1)] ^= (byte) (1 << random.nextInt(8)); // keep the first byte
            }
            OutputStream out = socket.getOutputStream();
            out.write(bytes);
            byte[] noise = new byte[random.nextInt(200)];
            random.nextBytes(noise);
            out.write(noise);
            out.flush();
            framesSent.incrementAndGet();
            socket.getInputStream().read(new byte[4096]);
        } catch (IOException expected) {
            // the relay closes the connection: no session has this ticket
        }
    }

    private static byte[] fuzzedFrame(Random random, Role role) {
        int kind = random.nextInt(4);
        if (kind == 0) {
            byte[] noise = new byte[1 + random.nextInt(80)];
            random.nextBytes(noise);
            return noise;
        }
        Frame frame = switch (kind) {
            case 1 -> new Frame.Hello(Protocol.VERSION, role, DataPlane.FORWARD.toString(),
                    role == Role.AGENT ? "guess-" + random.nextInt() : "", Protocol.DEFAULT_WINDOW);
            case 2 -> new Frame.Reset(1 + random.nextInt(9), EndReason.CANCELLED, "x");
            default -> Frame.Welcome.accept(BindScope.PUBLIC, Instant.now(), "s", Protocol.DEFAULT_WINDOW);
        };
        ByteBuf buf = Unpooled.buffer();
        FrameEncoder.encodeControl(frame, buf);
        byte[] bytes = new byte[buf.readableBytes()];
        buf.readBytes(bytes);
        buf.release();
        int flips = random.nextInt(4);
        for (int f = 0; f < flips; f++) {
            bytes[random.nextInt(bytes.length)] ^= (byte) (1 << random.nextInt(8));
        }
        return bytes;
    }
}
