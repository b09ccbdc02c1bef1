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
 *                                       'S': read to EOF, answer the byte count; 'E': echo;
 *                                       'R' and two ints REQ and RESP: answer every REQ bytes with RESP bytes
 *   send PORT TOTAL_BYTES STREAMS        prints MB/s for TOTAL_BYTES split over STREAMS connections
 *   rtt PORT COUNT SIZE                  prints p50 and p99 round-trip microseconds
 *   ops PORT CLIENTS SECONDS [REQ [RESP]] CLIENTS connections, each a loop of REQ-byte requests (default 64) and
 *                                        RESP-byte replies (default 256) for SECONDS; prints ops/s, p50 and p99 µs
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
            case "ops" -> ops(Integer.parseInt(args[1]), Integer.parseInt(args[2]), Double.parseDouble(args[3]),
                    args.length > 4 ? Integer.parseInt(args[4]) : 64, args.length > 5 ? Integer.parseInt(args[5]) : 256);
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
                    } else if (mode == 'R') {
                        // request/response: every request of REQ bytes gets RESP bytes back, until the client closes
                        DataInputStream data = new DataInputStream(in);
                        byte[] request = new byte[data.readInt()];
                        byte[] response = new byte[data.readInt()];
                        while (true) {
                            try {
                                data.readFully(request);
                            } catch (java.io.EOFException closed) {
                                break;
                            }
                            out.write(response);
                            out.flush();
                        }
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

    /**
     * CLIENTS connections, all opened and through the path (one request answered each) before the clock starts, then
     * each a closed loop of request and reply for SECONDS. Latencies go into a log-linear histogram per client
     * (nanoseconds, exact below 256 ns, within 1/128 above), merged at the end.
     */
    static void ops(int port, int clients, double seconds, int requestBytes, int responseBytes) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(clients, task -> {
            Thread thread = new Thread(task);
            thread.setDaemon(true);  // a client stuck on a broken path does not keep the JVM from exiting
            return thread;
        });
        long[] startAt = new long[1];
        // the clock starts when the last party arrives; the barrier's action happens before every party goes on
        java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(clients + 1,
                () -> startAt[0] = System.nanoTime());
        List<Future<long[]>> results = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            results.add(pool.submit(() -> {
                byte[] request = new byte[requestBytes];
                byte[] response = new byte[responseBytes];
                Socket socket = null;
                try {
                    socket = new Socket(InetAddress.getLoopbackAddress(), port);
                    socket.setTcpNoDelay(true);
                    socket.setSoTimeout(30_000);  // a wedged path fails the run instead of hanging it
                    java.nio.ByteBuffer header = java.nio.ByteBuffer.allocate(9 + requestBytes);
                    header.put((byte) 'R').putInt(requestBytes).putInt(responseBytes).put(request);
                    socket.getOutputStream().write(header.array());  // the header and the first request in one segment
                    new DataInputStream(socket.getInputStream()).readFully(response);
                } catch (java.io.IOException e) {
                    start.reset();  // the others and the clock stop waiting for this one
                    if (socket != null) {
                        socket.close();
                    }
                    throw e;
                }
                try (Socket connected = socket) {
                    OutputStream out = connected.getOutputStream();
                    DataInputStream in = new DataInputStream(connected.getInputStream());
                    start.await();
                    long deadline = startAt[0] + (long) (seconds * 1e9);
                    long[] histogram = new long[HISTOGRAM_BUCKETS + 1];  // the last slot: when this client finished
                    long now = System.nanoTime();
                    while (now < deadline) {
                        out.write(request);
                        out.flush();
                        in.readFully(response);
                        long end = System.nanoTime();
                        histogram[bucket(end - now)]++;
                        now = end;
                    }
                    histogram[HISTOGRAM_BUCKETS] = now;
                    return histogram;
                }
            }));
        }
        try {
            start.await(60, java.util.concurrent.TimeUnit.SECONDS);  // all connected and answered once
        } catch (java.util.concurrent.TimeoutException | java.util.concurrent.BrokenBarrierException e) {
            for (Future<long[]> result : results) {
                try {
                    result.get(1, java.util.concurrent.TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException failed) {
                    if (!(failed.getCause() instanceof java.util.concurrent.BrokenBarrierException)) {
                        throw failed;  // the cause: a client that failed to connect or to get its first answer
                    }
                } catch (java.util.concurrent.TimeoutException stillWaiting) {
                    // a client still connecting or waiting for its first answer
                }
            }
            throw new IllegalStateException("not all " + clients + " clients got a first answer within 60 s");
        }
        long[] merged = new long[HISTOGRAM_BUCKETS];
        long finished = 0;
        for (Future<long[]> result : results) {
            long[] histogram = result.get();
            for (int b = 0; b < HISTOGRAM_BUCKETS; b++) {
                merged[b] += histogram[b];
            }
            finished = Math.max(finished, histogram[HISTOGRAM_BUCKETS]);
        }
        pool.shutdown();
        long total = Arrays.stream(merged).sum();
        double elapsed = (finished - startAt[0]) / 1e9;
        System.out.printf("%.0f %d %d%n", total / elapsed, percentile(merged, total, 0.50) / 1000,
                percentile(merged, total, 0.99) / 1000);
    }

    /** Log-linear buckets over nanoseconds: 0..255 exact, then 128 buckets per power of two. */
    static final int HISTOGRAM_BUCKETS = 256 + 56 * 128;

    static int bucket(long nanos) {
        if (nanos < 256) {
            return (int) Math.max(nanos, 0);
        }
        int shift = 63 - Long.numberOfLeadingZeros(nanos) - 7;
        return 256 + (shift - 1) * 128 + (int) (nanos >>> shift) - 128;
    }

    /** The middle of the bucket that holds the given fraction of all samples. */
    static long percentile(long[] histogram, long total, double fraction) {
        long rank = (long) Math.ceil(total * fraction);
        long seen = 0;
        for (int b = 0; b < histogram.length; b++) {
            seen += histogram[b];
            if (seen >= Math.max(rank, 1)) {
                if (b < 256) {
                    return b;
                }
                int shift = (b - 256) / 128 + 1;
                long low = (long) ((b - 256) % 128 + 128) << shift;
                return low + (1L << shift) / 2;
            }
        }
        return -1;
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
