package dev.porthole.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.porthole.protocol.pki.KeyMaterial;
import dev.porthole.sidecar.AgentConfig;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * What the relay handles is ciphertext only: with a {@link WireTap} in front of each of its listeners, which then holds
 * every byte the relay's process reads and writes, a marker sent through a session reaches the target and comes back,
 * and never appears in anything the relay saw. A tap in front of the target shows the same marker in the clear, so the
 * taps would see it if it were there.
 */
class EndToEndEncryptionIT {

    private final DataPlane plane = new DataPlane();

    @AfterEach
    void tearDown() throws Exception {
        plane.close();
    }

    @Test
    @DisplayName("a marker sent through a session never appears in what the relay receives or sends")
    void relayHandlesCiphertextOnly() throws Exception {
        byte[] marker = ("porthole-plaintext-marker-" + UUID.randomUUID()).getBytes(StandardCharsets.US_ASCII);
        byte[] payload = new byte[marker.length * 2000];
        for (int i = 0; i < 2000; i++) {
            System.arraycopy(marker, 0, payload, i * marker.length, marker.length);
        }
        try (Targets.Target echo = Targets.echo();
             WireTap atTarget = new WireTap(new InetSocketAddress(InetAddress.getLoopbackAddress(), echo.port()));
             WireTap atAgentListener = new WireTap(new InetSocketAddress(InetAddress.getLoopbackAddress(),
                     plane.relay.agentPort()));
             WireTap atClientListener = new WireTap(new InetSocketAddress(InetAddress.getLoopbackAddress(),
                     plane.relay.clientPort()))) {
            // given: the agent and the client reach the relay only through the taps
            AgentConfig config = AgentConfig.of("localhost", atAgentListener.port(), DataPlane.FORWARD,
                    plane.tokens.get(DataPlane.FORWARD), plane.ca.certificate(), plane.agentKey(DataPlane.FORWARD),
                    "127.0.0.1", atTarget.port(), Instant.now().plus(Duration.ofHours(1)));
            plane.agent(config);
            await().atMost(Duration.ofSeconds(10)).until(() -> plane.relay.isAgentConnected(DataPlane.FORWARD));
            KeyMaterial key = plane.clientKey(DataPlane.FORWARD, plane.forwardExpiresAt);
            Forwarder forwarder = plane.forwarder(ForwarderConfig.of(DataPlane.FORWARD, InetAddress.getLoopbackAddress(),
                    0, "localhost", atClientListener.port(), plane.ca.certificate(), f -> key));

            // when
            byte[] echoed;
            try (Socket socket = new Socket()) {
                socket.connect(forwarder.localAddress());
                OutputStream out = socket.getOutputStream();
                out.write(payload);
                socket.shutdownOutput();
                InputStream in = socket.getInputStream();
                echoed = in.readAllBytes();
            }

            // then: the session worked, through the taps
            assertThat(echoed.length).isEqualTo(payload.length);
            assertThat(java.util.Arrays.equals(echoed, payload)).as("the echo is the payload").isTrue();
            await().atMost(Duration.ofSeconds(5)).until(() -> !plane.closed.isEmpty());
            assertThat(atClientListener.bytesCarried()).as("the client's side carried the payload both ways")
                    .isGreaterThan(2L * payload.length);
            assertThat(atAgentListener.bytesCarried()).as("the agent's side carried the payload both ways")
                    .isGreaterThan(2L * payload.length);
            // and the plaintext is where it should be, at the target
            assertThat(atTarget.saw(marker)).isTrue();
            // and nowhere the relay could see it, neither the marker nor its first 12 bytes
            byte[] prefix = java.util.Arrays.copyOf(marker, 12);
            assertThat(atClientListener.saw(prefix)).as("client listener").isFalse();
            assertThat(atAgentListener.saw(prefix)).as("agent listener").isFalse();
            assertThat(atClientListener.directions()).as("control and data connection, both ways").isGreaterThanOrEqualTo(4);
            assertThat(atAgentListener.directions()).isGreaterThanOrEqualTo(4);
        }
    }
}
