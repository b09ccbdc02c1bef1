import java.io.DataInputStream;
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
 *   serve PORT                          first byte 'S': read to EOF, answer the byte count; 'E': echo
 *   send PORT TOTAL_BYTES STREAMS        prints MB/s for TOTAL_BYTES split over STREAMS connections
 *   rtt PORT COUNT SIZE                  prints p50 and p99 round-trip microseconds
 *   hold PORT STREAMS                    opens STREAMS echo connections, prints "ready", holds until stdin closes
 */
public class Bench {

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "serve" -> serve(Integer.parseInt(args[1]));
            case "send" -> send(Integer.parseInt(args[1]), Long.parseLong(args[2]), Integer.parseInt(args[3]));
            case "rtt" -> rtt(Integer.parseInt(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]));
            case "hold" -> hold(Integer.parseInt(args[1]), Integer.parseInt(args[2]));
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
                    if (mode == 'S') {
                        byte[] buf = new byte[256 * 1024];
                        long total = 0;
                        int n;
                        while ((n = in.read(buf)) > 0) {
                            total += n;
                        }
                        out.write((total + "\n").getBytes());
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
                    OutputStream out = socket.getOutputStream();
                    out.write('S');
                    byte[] chunk = new byte[256 * 1024];
                    for (long sent = 0; sent < perStream; sent += chunk.length) {
                        out.write(chunk, 0, (int) Math.min(chunk.length, perStream - sent));
                    }
                    socket.shutdownOutput();
                    String answer = new String(socket.getInputStream().readAllBytes()).trim();
                    return Long.parseLong(answer);
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
