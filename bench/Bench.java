import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Load generator and sink for bench/tunnel-bench.sh (run with `java Bench.java MODE ...`).
 *   serve PORT                          first byte 'L' and a length: read that many bytes, answer the count;
 *                                       'S': read to EOF, answer the byte count; 'E': echo
 *   send PORT TOTAL_BYTES STREAMS        prints MB/s for TOTAL_BYTES split over STREAMS connections
 *   rtt PORT COUNT SIZE                  prints p50 and p99 round-trip microseconds
 *   hold PORT STREAMS                    opens STREAMS echo connections, prints "ready", holds until stdin closes
 *   halfclose PORT TOTAL_BYTES           the server half-closes at once ('H') while the client sends TOTAL_BYTES;
 *                                        a second connection ('Q') asks what arrived: prints "ok" or what went wrong
 */
public class Bench {

    /** What each half-closed connection delivered, by the client's id, until the client asks ('Q'). */
    private static final java.util.concurrent.ConcurrentHashMap<Long, Long> HALF_CLOSED = new java.util.concurrent.ConcurrentHashMap<>();

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "serve" -> serve(Integer.parseInt(args[1]));
            case "send" -> send(Integer.parseInt(args[1]), Long.parseLong(args[2]), Integer.parseInt(args[3]));
            case "rtt" -> rtt(Integer.parseInt(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]));
            case "hold" -> hold(Integer.parseInt(args[1]), Integer.parseInt(args[2]));
            case "halfclose" -> halfClose(Integer.parseInt(args[1]), Long.parseLong(args[2]));
            default -> throw new IllegalArgumentException(args[0]);
        }
    }

    static void serve(int port) throws Exception {
        ServerSocket server = new ServerSocket(port, 512, InetAddress.getLoopbackAddress());
        ExecutorService pool = Executors.newCachedThreadPool();
        while (true) {
            Socket socket = server.accept();
            pool.execute(() -> {
                try (socket) {
                    socket.setTcpNoDelay(true);
                    InputStream in = socket.getInputStream();
                    OutputStream out = socket.getOutputStream();
                    int mode = in.read();
                    if (mode == 'L') {
                        // the length up front: the client needs no half-close, which not every path carries
                        long expected = new DataInputStream(in).readLong();
                        byte[] buf = new byte[256 * 1024];
                        long total = 0;
                        int n;
                        while (total < expected && (n = in.read(buf, 0, (int) Math.min(buf.length, expected - total))) > 0) {
                            total += n;
                        }
                        out.write((total + "\n").getBytes());
                        out.flush();
                    } else if (mode == 'S') {
                        byte[] buf = new byte[256 * 1024];
                        long total = 0;
                        int n;
                        while ((n = in.read(buf)) > 0) {
                            total += n;
                        }
                        out.write((total + "\n").getBytes());
                    } else if (mode == 'H') {
                        // a server with nothing to say half-closes at once and goes on reading what it is sent
                        long id = new DataInputStream(in).readLong();
                        socket.shutdownOutput();
                        byte[] buf = new byte[256 * 1024];
                        long total = 0;
                        int n;
                        while ((n = in.read(buf)) > 0) {
                            total += n;
                        }
                        HALF_CLOSED.put(id, total);
                    } else if (mode == 'Q') {
                        long id = new DataInputStream(in).readLong();
                        Long total = null;
                        for (int i = 0; i < 200 && (total = HALF_CLOSED.remove(id)) == null; i++) {
                            Thread.sleep(50);
                        }
                        out.write(((total == null ? -1 : total) + "\n").getBytes());
                    } else if (mode == 'E') {
                        byte[] buf = new byte[64 * 1024];
                        int n;
                        while ((n = in.read(buf)) > 0) {
                            out.write(buf, 0, n);
                            out.flush();
                        }
                    }
                } catch (Exception ignored) {
                }
            });
        }
    }

    static void send(int port, long total, int streams) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(streams);
        long perStream = total / streams;
        long start = System.nanoTime();
        List<Future<Long>> results = new ArrayList<>();
        for (int i = 0; i < streams; i++) {
            results.add(pool.submit(() -> {
                try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
                    DataOutputStream out = new DataOutputStream(socket.getOutputStream());
                    out.write('L');
                    out.writeLong(perStream);
                    byte[] chunk = new byte[256 * 1024];
                    for (long sent = 0; sent < perStream; sent += chunk.length) {
                        out.write(chunk, 0, (int) Math.min(chunk.length, perStream - sent));
                    }
                    out.flush();
                    String answer = new java.io.BufferedReader(new java.io.InputStreamReader(socket.getInputStream())).readLine();
                    return Long.parseLong(answer.trim());
                }
            }));
        }
        long received = 0;
        for (Future<Long> result : results) {
            received += result.get();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        pool.shutdown();
        if (received != perStream * streams) {
            throw new IllegalStateException("sink received " + received + " of " + perStream * streams);
        }
        System.out.printf("%.0f%n", received / seconds / 1e6);
    }

    static void halfClose(int port, long total) throws Exception {
        long id = new java.util.Random().nextLong();
        java.util.concurrent.ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor();
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            // a wedged path blocks writes forever; after 60 s the run counts as broken
            watchdog.schedule(() -> { try { socket.close(); } catch (Exception ignored) { } }, 60, java.util.concurrent.TimeUnit.SECONDS);
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            out.write('H');
            out.writeLong(id);
            out.flush();
            socket.setSoTimeout(30_000);
            if (socket.getInputStream().read() != -1) {
                System.out.println("server sent data instead of half-closing");
                return;
            }
            byte[] chunk = new byte[256 * 1024];
            for (long sent = 0; sent < total; sent += chunk.length) {
                out.write(chunk, 0, (int) Math.min(chunk.length, total - sent));
            }
            socket.shutdownOutput();
        } catch (java.io.IOException e) {
            System.out.println("broken (" + e.getMessage() + ")");
            return;
        } finally {
            watchdog.shutdownNow();
        }
        try (Socket query = new Socket(InetAddress.getLoopbackAddress(), port)) {
            query.setSoTimeout(30_000);
            DataOutputStream out = new DataOutputStream(query.getOutputStream());
            out.write('Q');
            out.writeLong(id);
            out.flush();
            long received = Long.parseLong(new String(query.getInputStream().readAllBytes()).trim());
            System.out.println(received == total ? "ok" : "short " + received / 1048576 + "/" + total / 1048576 + " MiB");
        } catch (java.io.IOException e) {
            System.out.println("no answer after the half-close (" + e.getMessage() + ")");
        }
    }

    static void rtt(int port, int count, int size) throws Exception {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            socket.setTcpNoDelay(true);
            OutputStream out = socket.getOutputStream();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            out.write('E');
            byte[] ping = new byte[size];
            byte[] pong = new byte[size];
            long[] micros = new long[count];
            for (int i = -100; i < count; i++) {
                long start = System.nanoTime();
                out.write(ping);
                out.flush();
                in.readFully(pong);
                if (i >= 0) {
                    micros[i] = (System.nanoTime() - start) / 1000;
                }
            }
            Arrays.sort(micros);
            System.out.println(micros[count / 2] + " " + micros[count * 99 / 100]);
        }
    }

    static void hold(int port, int streams) throws Exception {
        List<Socket> sockets = new ArrayList<>();
        for (int i = 0; i < streams; i++) {
            Socket socket = new Socket(InetAddress.getLoopbackAddress(), port);
            socket.getOutputStream().write(new byte[] {'E', 1, 2, 3});
            new DataInputStream(socket.getInputStream()).readFully(new byte[3]);
            sockets.add(socket);
        }
        System.out.println("ready");
        System.out.flush();
        System.in.read();
        for (Socket socket : sockets) {
            socket.close();
        }
    }
}
