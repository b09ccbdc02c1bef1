package dev.porthole.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** Small blocking TCP targets on loopback for the data-plane tests. */
final class Targets {

    private Targets() {
    }

    /** What a target does with each accepted connection. */
    @FunctionalInterface
    interface Behaviour {
        void serve(Socket socket) throws Exception;
    }

    /** A running target; close stops accepting and closes it. */
    static final class Target implements AutoCloseable {
        private final ServerSocket server;
        private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
            Thread thread = new Thread(r, "target");
            thread.setDaemon(true);
            return thread;
        });

        Target(Behaviour behaviour) throws IOException {
            server = new ServerSocket();
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 256);
            threads.execute(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket socket = server.accept();
                        threads.execute(() -> {
                            try (socket) {
                                behaviour.serve(socket);
                            } catch (Exception ignored) {
                                // the peer went away
                            }
                        });
                    } catch (IOException closed) {
                        return;
                    }
                }
            });
        }

        int port() {
            return server.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            server.close();
            threads.shutdownNow();
        }
    }

    /** Echoes every byte back until EOF, then closes. */
    static Target echo() throws IOException {
        return new Target(socket -> socket.getInputStream().transferTo(socket.getOutputStream()));
    }

    /** Reads until EOF, then answers with the hex SHA-256 of what it read and the byte count. */
    static Target hasher() throws IOException {
        return new Target(socket -> {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[64 * 1024];
            long total = 0;
            InputStream in = socket.getInputStream();
            int n;
            while ((n = in.read(buf)) > 0) {
                sha.update(buf, 0, n);
                total += n;
            }
            OutputStream out = socket.getOutputStream();
            out.write((HexFormat.of().formatHex(sha.digest()) + " " + total + "\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
        });
    }

    /** Writes without end, as fast as the connection takes it. */
    static Target firehose() throws IOException {
        return new Target(socket -> {
            byte[] chunk = new byte[64 * 1024];
            OutputStream out = socket.getOutputStream();
            while (true) {
                out.write(chunk);
            }
        });
    }

    /** First byte 'F': firehose; anything else: echo, the first byte included. */
    static Target mixed() throws IOException {
        return new Target(socket -> {
            InputStream in = socket.getInputStream();
            OutputStream out = socket.getOutputStream();
            int first = in.read();
            if (first == 'F') {
                byte[] chunk = new byte[64 * 1024];
                while (true) {
                    out.write(chunk);
                }
            }
            if (first >= 0) {
                out.write(first);
                in.transferTo(out);
            }
        });
    }

    /** Accepts and closes at once. */
    static Target dropper() throws IOException {
        return new Target(socket -> socket.close());
    }

    /** A loopback port with nothing listening. */
    static int closedPort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        }
    }
}
