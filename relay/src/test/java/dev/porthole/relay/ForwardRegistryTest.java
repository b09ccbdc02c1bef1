package dev.porthole.relay;

import dev.porthole.protocol.ForwardRef;
import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.protocol.pki.ClientIdentity;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ForwardRegistryTest {

    private static final ClientIdentity ALICE = new ClientIdentity("alice", List.of("sre"), ForwardRef.parse("shop/db"), "uid-1", Instant.MAX);

    private static ClientSession session(int n, ForwardRef forward) {
        // the registry needs a session's forward only: no address, no control connection, no event loop
        return new ClientSession("session-" + n, ALICE, null, false, forward, Instant.now(), null, 2 * n + 1, null);
    }

    @Test
    @DisplayName("sessions admitted at the same moment never take a forward over its limit")
    void concurrentAdmissionsStayWithinTheLimit() throws Exception {
        // given
        ForwardRegistry registry = new ForwardRegistry();
        ExecutorService threads = Executors.newFixedThreadPool(8);
        CountDownLatch start = new CountDownLatch(1);
        AtomicInteger admitted = new AtomicInteger();
        List<Future<?>> runs = new ArrayList<>();
        // when: 8 threads try to add 50 sessions each to a forward limited to 10
        for (int t = 0; t < 8; t++) {
            int base = t * 50;
            runs.add(threads.submit(() -> {
                start.await();
                for (int i = 0; i < 50; i++) {
                    if (registry.addSession(session(base + i, ForwardRef.parse("shop/db")), 10)) {
                        admitted.incrementAndGet();
                    }
                }
                return null;
            }));
        }
        start.countDown();
        for (Future<?> run : runs) {
            run.get(10, TimeUnit.SECONDS);
        }
        threads.shutdown();
        // then
        assertThat(admitted.get()).isEqualTo(10);
        assertThat(registry.sessions(ForwardRef.parse("shop/db"))).hasSize(10);
    }

    @Test
    @DisplayName("a session that ends frees its slot; other forwards and a limit of 0 are not affected")
    void slotsAreFreedAndCountedPerForward() {
        // given
        ForwardRegistry registry = new ForwardRegistry();
        ClientSession first = session(1, ForwardRef.parse("shop/db"));
        assertThat(registry.addSession(first, 1)).isTrue();
        // when / then
        assertThat(registry.addSession(session(2, ForwardRef.parse("shop/db")), 1)).isFalse();
        assertThat(registry.addSession(session(3, ForwardRef.parse("shop/cache")), 1)).isTrue();
        registry.removeSession(first);
        assertThat(registry.addSession(session(4, ForwardRef.parse("shop/db")), 1)).isTrue();
        for (int i = 10; i < 20; i++) {
            assertThat(registry.addSession(session(i, ForwardRef.parse("shop/unlimited")), 0)).isTrue();
        }
        assertThat(registry.sessions(ForwardRef.parse("shop/unlimited"))).hasSize(10);
    }
}
