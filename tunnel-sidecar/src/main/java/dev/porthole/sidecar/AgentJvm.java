package dev.porthole.sidecar;

/**
 * JVM flags for the agent container. The operator sets {@link #JAVA_TOOL_OPTIONS} as the container's
 * {@code JAVA_TOOL_OPTIONS} environment variable (the JVM reads it before {@code -jar}; it prints one
 * "Picked up JAVA_TOOL_OPTIONS" line on stderr). Measured with {@code bench/tunnel-bench.sh}: about 100 MiB
 * peak RSS instead of 130-140 MiB with the JVM defaults.
 *
 * <ul>
 *   <li>{@code -XX:-TieredCompilation}: C2 only, no C1 tier. Once warm, C2 code makes each frame cheaper than
 *       C1 code (the benchmark's 8-stream throughput and small-message round trips improved by about 10 %),
 *       and skipping the C1 tiers keeps the code cache and the number of compilations small. Start-up to
 *       "connected to relay" measured the same as C1 only (about 0.8 s).</li>
 *   <li>{@code -Xms8m -Xmx32m -XX:+UseSerialGC}: small heap, one GC thread, no GC worker pools.</li>
 *   <li>{@code -Xss256k -XX:MaxMetaspaceSize=48m -XX:ReservedCodeCacheSize=24m}: fewer reserved and
 *       committed native pages.</li>
 *   <li>{@code -XX:MaxDirectMemorySize=64m -Dio.netty.allocator.type=pooled
 *       -Dio.netty.allocator.numDirectArenas=1 -Dio.netty.allocator.numHeapArenas=1}: one event-loop
 *       thread needs one arena; the per-stream windows bound what is buffered (512 KiB each direction).</li>
 * </ul>
 */
public final class AgentJvm {

    /** Value for the agent container's {@code JAVA_TOOL_OPTIONS}. */
    public static final String JAVA_TOOL_OPTIONS = "-XX:-TieredCompilation -Xms8m -Xmx32m -XX:+UseSerialGC"
            + " -Xss256k -XX:MaxMetaspaceSize=48m -XX:ReservedCodeCacheSize=24m -XX:MaxDirectMemorySize=64m"
            + " -Dio.netty.allocator.type=pooled -Dio.netty.allocator.numDirectArenas=1"
            + " -Dio.netty.allocator.numHeapArenas=1";

    private AgentJvm() {
    }
}
