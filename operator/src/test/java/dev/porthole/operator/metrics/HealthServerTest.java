package dev.porthole.operator.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The metrics and probe endpoint on real sockets: what it answers, and that no client can hold the probe up. */
class HealthServerTest {
    private static final String HALF_REQUEST = "GET /healthz HTTP/1.1\r\nHost: porthole\r\nUser-Agent: stalling";

    private final AtomicBoolean live = new AtomicBoolean(true);
    private final AtomicBoolean ready = new AtomicBoolean(false);
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private HealthServer server;

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : toClose) {
            c.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    @DisplayName("/metrics is Prometheus text, /healthz and /readyz answer 200 or 503 from their checks, HEAD has no body")
    void answers() throws Exception {
        // given
        server = start(HealthServer.Limits.DEFAULTS);

        // when
        HttpResponse<String> metrics = get("/metrics");
        HttpResponse<String> withQuery = get("/metrics?name[]=porthole_sessions_total");
        HttpResponse<String> healthz = get("/healthz");
        HttpResponse<String> readyz = get("/readyz");
        ready.set(true);
        HttpResponse<String> readyLater = get("/readyz");
        live.set(false);
        HttpResponse<String> notLive = get("/healthz");
        HttpResponse<String> head = http.send(request("/metrics").method("HEAD", HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());

        // then
        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(metrics.headers().firstValue("Content-Type")).hasValue(HealthServer.PROMETHEUS_TEXT);
        assertThat(metrics.body()).isEqualTo("porthole_up 1\n");
        assertThat(withQuery.statusCode()).isEqualTo(200);
        assertThat(healthz.statusCode()).isEqualTo(200);
        assertThat(healthz.body()).isEqualTo("ok\n");
        assertThat(readyz.statusCode()).isEqualTo(503);
        assertThat(readyz.body()).isEqualTo("not ready\n");
        assertThat(readyLater.statusCode()).isEqualTo(200);
        assertThat(notLive.statusCode()).isEqualTo(503);
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.headers().firstValue("Content-Length")).hasValue("14");
        assertThat(head.body()).isEmpty();
    }

    @Test
    @DisplayName("a check that throws answers 503, a failing scrape 500, other methods 405, other paths 404")
    void failuresAndOtherRequests() throws Exception {
        // given
        server = HealthServer.start("127.0.0.1", 0, () -> {
            throw new IllegalStateException("registry closed");
        }, () -> {
            throw new IllegalStateException("not started");
        }, () -> true);

        // when
        HttpResponse<String> healthz = get("/healthz");
        HttpResponse<String> metrics = get("/metrics");
        HttpResponse<String> post = http.send(request("/readyz").POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> unknown = get("/metricsx");

        // then
        assertThat(healthz.statusCode()).isEqualTo(503);
        assertThat(metrics.statusCode()).isEqualTo(500);
        assertThat(post.statusCode()).isEqualTo(405);
        assertThat(post.headers().firstValue("Allow")).hasValue("GET, HEAD");
        assertThat(unknown.statusCode()).isEqualTo(404);
    }

    @Test
    @DisplayName("with several half-sent requests held open, /healthz and /metrics still answer at once")
    void halfSentRequestsDoNotBlockTheProbe() throws Exception {
        // given: a long timeout, so the stalled clients stay for the whole test
        server = start(new HealthServer.Limits(Duration.ofSeconds(60), 64, 8192, 1024));
        List<Socket> stalled = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            stalled.add(send(HALF_REQUEST));
        }
        stalled.add(connect()); // and one that sends nothing at all
        await().atMost(Duration.ofSeconds(5)).until(() -> server.openConnections() == 9);

        // when
        long started = System.nanoTime();
        HttpResponse<String> healthz = http.send(request("/healthz").timeout(Duration.ofSeconds(2)).build(),
                HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> metrics = http.send(request("/metrics").timeout(Duration.ofSeconds(2)).build(),
                HttpResponse.BodyHandlers.ofString());
        Duration took = Duration.ofNanos(System.nanoTime() - started);

        // then: answered well within a probe's default 1 s timeout, and the stalled clients are still waiting
        assertThat(healthz.statusCode()).isEqualTo(200);
        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(took).isLessThan(Duration.ofSeconds(1));
        for (Socket s : stalled) {
            assertThat(state(s)).isEqualTo(State.OPEN);
        }
    }

    @Test
    @DisplayName("stalled connections are closed once the timeout passes, also one that keeps trickling bytes")
    void stalledConnectionsClosedAfterTimeout() throws Exception {
        // given
        server = start(new HealthServer.Limits(Duration.ofMillis(800), 64, 64 * 1024, 1024));
        Socket half = send(HALF_REQUEST);
        Socket silent = connect();
        Socket trickling = send("GET /healthz HTTP/1.1\r\n");
        ScheduledExecutorService trickle = Executors.newSingleThreadScheduledExecutor();
        toClose.add(trickle::shutdownNow);
        trickle.scheduleAtFixedRate(() -> {
            try {
                trickling.getOutputStream().write('x');
            } catch (IOException e) {
                // closed by the server: what the test waits for
            }
        }, 50, 50, TimeUnit.MILLISECONDS);

        // when / then: not before the timeout, but soon after it
        await().atLeast(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5)).until(() -> state(half) == State.EOF);
        await().atMost(Duration.ofSeconds(5)).until(() -> state(silent) == State.EOF);
        // the trickler may also see a reset: its bytes can arrive after the server has closed
        await().atMost(Duration.ofSeconds(5)).until(() -> state(trickling) != State.OPEN);
        await().atMost(Duration.ofSeconds(5)).until(() -> server.openConnections() == 0);
        assertThat(get("/healthz").statusCode()).isEqualTo(200);
    }

    @Test
    @DisplayName("at the connection cap a new connection closes the oldest, so stalled clients cannot lock the probe out")
    void capClosesTheOldest() throws Exception {
        // given: the cap full of stalled clients
        server = start(new HealthServer.Limits(Duration.ofSeconds(60), 4, 8192, 1024));
        List<Socket> stalled = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            stalled.add(send(HALF_REQUEST));
            int admitted = i + 1;
            await().atMost(Duration.ofSeconds(5)).until(() -> server.openConnections() == admitted);
        }

        // when
        HttpResponse<String> healthz = http.send(request("/healthz").timeout(Duration.ofSeconds(2)).build(),
                HttpResponse.BodyHandlers.ofString());

        // then
        assertThat(healthz.statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(5)).until(() -> state(stalled.get(0)) == State.EOF);
        for (Socket s : stalled.subList(1, 4)) {
            assertThat(state(s)).isEqualTo(State.OPEN);
        }
        assertThat(server.openConnections()).isLessThanOrEqualTo(4);
    }

    @Test
    @DisplayName("an oversized request is refused: too long a request line 414, too many header bytes 431, a body 413")
    void oversizedRequestsRefused() throws Exception {
        // given
        server = start(HealthServer.Limits.DEFAULTS);
        String longUri = "/healthz?" + "a".repeat(HealthServer.MAX_REQUEST_LINE);
        String bigHeader = "X-Padding: " + "b".repeat(16 * 1024) + "\r\n";

        // when
        String uriTooLong = exchange("GET " + longUri + " HTTP/1.1\r\nHost: porthole\r\n\r\n");
        String headersTooLarge = exchange("GET /healthz HTTP/1.1\r\nHost: porthole\r\n" + bigHeader + "\r\n");
        String declaredBody = exchange("GET /healthz HTTP/1.1\r\nHost: porthole\r\nContent-Length: 5000\r\n\r\n"
                + "c".repeat(5000));
        String chunkedBody = exchange("GET /healthz HTTP/1.1\r\nHost: porthole\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "400\r\n" + "d".repeat(1024) + "\r\n" + "400\r\n" + "d".repeat(1024) + "\r\n0\r\n\r\n");
        String smallBody = exchange("GET /healthz HTTP/1.1\r\nHost: porthole\r\nContent-Length: 5\r\n\r\nhello");

        // then
        assertThat(uriTooLong).startsWith("HTTP/1.1 414 ");
        assertThat(headersTooLarge).startsWith("HTTP/1.1 431 ");
        assertThat(declaredBody).startsWith("HTTP/1.1 413 ");
        assertThat(chunkedBody).startsWith("HTTP/1.1 413 ");
        assertThat(smallBody).startsWith("HTTP/1.1 200 ").endsWith("\r\n\r\nok\n");
        assertThat(get("/healthz").statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(5)).until(() -> server.openConnections() == 0);
    }

    @Test
    @DisplayName("close() stops listening")
    void closeStopsListening() {
        // given
        server = start(HealthServer.Limits.DEFAULTS);
        int port = server.port();

        // when
        server.close();
        server = null;

        // then
        assertThatThrownBy(() -> new Socket(InetAddress.getLoopbackAddress(), port).close()).isInstanceOf(ConnectException.class);
    }

    // --- helpers

    private HealthServer start(HealthServer.Limits limits) {
        return HealthServer.start("127.0.0.1", 0, () -> "porthole_up 1\n", live::get, ready::get, limits);
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path)).timeout(Duration.ofSeconds(5));
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(request(path).build(), HttpResponse.BodyHandlers.ofString());
    }

    private Socket connect() throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), server.port());
        toClose.add(s);
        return s;
    }

    private Socket send(String text) throws IOException {
        Socket s = connect();
        OutputStream out = s.getOutputStream();
        out.write(text.getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return s;
    }

    /** Sends a whole request and reads the answer until the server ends it. */
    private String exchange(String text) throws IOException {
        try (Socket s = send(text)) {
            s.setSoTimeout(5_000);
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        }
    }

    private enum State { OPEN, EOF, RESET }

    /** Whether the server has ended the connection, looking for at most 100 ms. */
    private static State state(Socket s) throws IOException {
        s.setSoTimeout(100);
        InputStream in = s.getInputStream();
        try {
            int b = in.read();
            if (b == -1) {
                return State.EOF;
            }
            throw new AssertionError("a stalled client was sent a byte: " + (char) b);
        } catch (SocketTimeoutException e) {
            return State.OPEN;
        } catch (SocketException e) {
            return State.RESET;
        }
    }
}
