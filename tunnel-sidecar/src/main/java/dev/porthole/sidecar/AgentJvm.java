package dev.porthole.sidecar;

/**
 * JVM flags for the agent container. The operator sets {@link #JAVA_TOOL_OPTIONS} as the container's
 * {@code JAVA_TOOL_OPTIONS} environment variable (the JVM reads it before {@code -jar}; it prints one
 * "Picked up JAVA_TOOL_OPTIONS" line on stderr). Measured with {@code bench/tunnel-bench.sh}: about 80 MiB
 * RSS with 100 active streams instead of 130-140 MiB with the JVM defaults, and faster, because C2
 * compilation no longer competes with the data path for the pod's CPU.
 *
 * <ul>
 *   <li>{@code -XX:TieredStopAtLevel=1}: C1 only. The agent's crypto runs in BoringSSL (netty-tcnative),
 *       not in JIT code; do not combine with {@code -Dporthole.tls.provider=jdk}: JDK AES-GCM without C2
 *       intrinsics is about 10x slower.</li>
 *   <li>{@code -Xms8m -Xmx32m -XX:+UseSerialGC}: small heap, one GC thread, no GC worker pools.</li>
 *   <li>{@code -Xss256k -XX:MaxMetaspaceSize=48m -XX:ReservedCodeCacheSize=16m}: fewer reserved and
 *       committed native pages.</li>
 *   <li>{@code -XX:MaxDirectMemorySize=64m -Dio.netty.allocator.type=pooled
 *       -Dio.netty.allocator.numDirectArenas=1 -Dio.netty.allocator.numHeapArenas=1}: one event-loop
 *       thread needs one arena; the per-stream windows bound what is buffered (512 KiB each direction).</li>
 * </ul>
 */
public final class AgentJvm {

    /** Value for the agent container's {@code JAVA_TOOL_OPTIONS}. */
    public static final String JAVA_TOOL_OPTIONS = "-XX:TieredStopAtLevel=1 -Xms8m -Xmx32m -XX:+UseSerialGC"
            + " -Xss256k -XX:MaxMetaspaceSize=48m -XX:ReservedCodeCacheSize=16m -XX:MaxDirectMemorySize=64m"
            + " -Dio.netty.allocator.type=pooled -Dio.netty.allocator.numDirectArenas=1"
            + " -Dio.netty.allocator.numHeapArenas=1";

    private AgentJvm() {
    }
}
