package dev.porthole.protocol.tls;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * {@code --self-check} of the agent and operator images: one line telling which TLS provider this process
 * uses, whether a TLS 1.3 context builds with it, whether Netty's epoll transport is there (Porthole runs on
 * NIO, see {@code TunnelPipeline.eventLoops}, so its jars normally do not carry it: "absent") and which file
 * the netty-tcnative library was mapped from. An image whose root filesystem is read-only must load it from
 * {@code -Djava.library.path}: Netty cannot unpack it from the jar there and silently falls back to the JDK.
 */
public final class SelfCheck {

    private SelfCheck() {
    }

    /** For example {@code tls=OPENSSL openssl=BoringSSL context=ok epoll=absent library=/app/native/libnetty_tcnative_linux_x86_64.so}. */
    public static String report() {
        SslProvider provider = TlsContexts.provider();
        return "tls=" + provider + " openssl=" + (OpenSsl.isAvailable() ? OpenSsl.versionString() : "unavailable")
                + " context=" + context(provider) + " epoll=" + epoll() + " library=" + mappedLibrary("netty_tcnative");
    }

    /** Prints {@link #report()}; 0 when TLS runs on OpenSSL, else 1 with the reason on {@code err}. */
    public static int run(PrintStream out, PrintStream err) {
        out.println(report());
        if (TlsContexts.provider() == SslProvider.OPENSSL && OpenSsl.isAvailable()) {
            return 0;
        }
        Throwable cause = OpenSsl.unavailabilityCause();
        err.println("self-check: TLS does not run on OpenSSL (netty-tcnative): "
                + (cause == null ? "provider chosen by -Dporthole.tls.provider" : cause));
        return 1;
    }

    private static String context(SslProvider provider) {
        try {
            SslContext context = SslContextBuilder.forClient().sslProvider(provider).protocols("TLSv1.3").build();
            ReferenceCountUtil.release(context);
            return "ok";
        } catch (Exception | LinkageError e) {
            return "failed(" + e + ")";
        }
    }

    private static String epoll() {
        try {
            Class<?> epoll = Class.forName("io.netty.channel.epoll.Epoll", true, SelfCheck.class.getClassLoader());
            return String.valueOf(epoll.getMethod("isAvailable").invoke(null));
        } catch (ClassNotFoundException e) {
            return "absent";
        } catch (ReflectiveOperationException | LinkageError e) {
            return "false";
        }
    }

    /**
     * The file of a mapped shared library whose name contains {@code name}, from /proc/self/maps ("... (deleted)"
     * when Netty unpacked it to a temporary file and removed that), "none" if none.
     */
    static String mappedLibrary(String name) {
        try (Stream<String> maps = Files.lines(Path.of("/proc/self/maps"))) {
            return maps.map(line -> line.trim().split("\\s+", 6)).filter(fields -> fields.length == 6)
                    .map(fields -> fields[5]).filter(file -> file.contains(name)).findFirst().orElse("none");
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }
}
