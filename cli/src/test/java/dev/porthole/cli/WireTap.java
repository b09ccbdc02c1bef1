package dev.porthole.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A TCP pass-through on loopback that keeps a copy of every byte it carries, per connection and direction: put in
 * front of a listener, it holds exactly what that listener's process receives and sends.
 */
final class WireTap implements AutoCloseable {
    private final ServerSocket server;
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final List<ByteArrayOutputStream> captures = new CopyOnWriteArrayList<>();

    WireTap(InetSocketAddress upstream) throws IOException {
        this.server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
        threads.submit(() -> {
            while (!server.isClosed()) {
                try {
                    Socket downstream = server.accept();
                    Socket up = new Socket(upstream.getAddress(), upstream.getPort());
                    up.setTcpNoDelay(true);
                    downstream.setTcpNoDelay(true);
                    sockets.add(downstream);
                    sockets.add(up);
                    threads.submit(() -> copy(downstream, up, capture()));
                    threads.submit(() -> copy(up, downstream, capture()));
                } catch (IOException e) {
                    return null;
                }
            }
            return null;
        });
    }

    int port() {
        return server.getLocalPort();
    }

    /** Connections tapped so far (each counted once per direction). */
    int directions() {
        return captures.size();
    }

    long bytesCarried() {
        return captures.stream().mapToLong(ByteArrayOutputStream::size).sum();
    }

    /** Whether {@code needle} occurs in what any one connection carried in one direction. */
    boolean saw(byte[] needle) {
        for (ByteArrayOutputStream capture : captures) {
            byte[] hay;
            synchronized (capture) {
                hay = capture.toByteArray();
            }
            if (indexOf(hay, needle) >= 0) {
                return true;
            }
        }
        return false;
    }

    private ByteArrayOutputStream capture() {
        ByteArrayOutputStream capture = new ByteArrayOutputStream();
        captures.add(capture);
        return capture;
    }

    private static Void copy(Socket from, Socket to, ByteArrayOutputStream capture) {
        byte[] buffer = new byte[64 * 1024];
        // not try-with-resources: closing a socket's stream closes the socket, and with it the other direction
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            int n;
            while ((n = in.read(buffer)) >= 0) {
                synchronized (capture) {
                    capture.write(buffer, 0, n);
                }
                out.write(buffer, 0, n);
            }
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

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
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
