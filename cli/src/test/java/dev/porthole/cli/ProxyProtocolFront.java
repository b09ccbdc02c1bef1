package dev.porthole.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A stand-in for a load balancer that sends the PROXY protocol: it accepts on loopback, connects to {@code upstream},
 * writes a v1 header naming {@code client} as the source, then copies bytes both ways.
 */
final class ProxyProtocolFront implements AutoCloseable {
    private final ServerSocket server;
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private volatile String client;

    ProxyProtocolFront(InetSocketAddress upstream, String client) throws IOException {
        this.client = client;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        threads.submit(() -> {
            while (!server.isClosed()) {
                try {
                    Socket downstream = server.accept();
                    Socket up = new Socket(upstream.getAddress(), upstream.getPort());
                    sockets.add(downstream);
                    sockets.add(up);
                    String header = "PROXY TCP4 " + this.client + " 127.0.0.1 " + (40000 + sockets.size()) + " "
                            + upstream.getPort() + "\r\n";
                    up.getOutputStream().write(header.getBytes(StandardCharsets.US_ASCII));
                    threads.submit(() -> copy(downstream, up));
                    threads.submit(() -> copy(up, downstream));
                } catch (IOException e) {
                    return null;
                }
            }
            return null;
        });
    }

    /** The client address the next connections' headers name. */
    void client(String address) {
        this.client = address;
    }

    int port() {
        return server.getLocalPort();
    }

    private static Void copy(Socket from, Socket to) {
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            in.transferTo(out);
        } catch (IOException e) {
            // one side closed: the other follows
        } finally {
            try {
                to.shutdownOutput();
            } catch (IOException ignored) {
                // already closed
            }
        }
        return null;
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : sockets) {
            s.close();
        }
        threads.shutdownNow();
    }
}
