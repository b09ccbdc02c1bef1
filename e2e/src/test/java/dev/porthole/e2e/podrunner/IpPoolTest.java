package dev.porthole.e2e.podrunner;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class IpPoolTest {

    @Test
    @DisplayName("hands out pod addresses from 10.244.0.2 on, never the gateway, and does not reuse a released one at once")
    void allocatesAndReuses() {
        // given
        IpPool pool = new IpPool();

        // when
        String first = pool.allocate();
        String second = pool.allocate();
        pool.release(first);
        String third = pool.allocate();

        // then
        assertThat(first).isEqualTo("10.244.0.2");
        assertThat(second).isEqualTo("10.244.0.3");
        assertThat(third).isEqualTo("10.244.0.4");
        assertThat(pool.inUse()).isEqualTo(2);
    }

    @Test
    @DisplayName("reuses released addresses once the range has gone round")
    void wrapsAround() {
        // given
        IpPool pool = new IpPool();
        String first = pool.allocate();
        for (int i = 0; i < 65_532; i++) {
            pool.allocate();
        }
        pool.release(first);

        // when
        String again = pool.allocate();

        // then
        assertThat(again).isEqualTo(first);
    }

    @Test
    @DisplayName("crosses into the next /24 after 10.244.0.255")
    void crossesOctet() {
        // given
        IpPool pool = new IpPool();

        // when
        String last = null;
        for (int i = 0; i < 255; i++) {
            last = pool.allocate();
        }

        // then
        assertThat(last).isEqualTo("10.244.1.0");
    }

    @Test
    @DisplayName("ignores addresses it never handed out")
    void ignoresForeignRelease() {
        // given
        IpPool pool = new IpPool();
        pool.allocate();

        // when
        pool.release("127.0.0.1");
        pool.release("10.244.0.1");

        // then
        assertThat(pool.inUse()).isEqualTo(1);
    }
}
