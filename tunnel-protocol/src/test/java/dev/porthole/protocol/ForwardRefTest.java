package dev.porthole.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ForwardRefTest {

    @Test
    @DisplayName("NAMESPACE/NAME reads into its parts and prints back the same")
    void roundTrip() {
        // when
        ForwardRef ref = ForwardRef.parse("shop/orders-db.v2");

        // then
        assertThat(ref.namespace()).isEqualTo("shop");
        assertThat(ref.name()).isEqualTo("orders-db.v2");
        assertThat(ref).hasToString("shop/orders-db.v2").isEqualTo(new ForwardRef("shop", "orders-db.v2"));
    }

    @ParameterizedTest(name = "\"{0}\" is refused")
    @ValueSource(strings = {"", "db", "/db", "shop/", "shop/db/x", "Shop/db", "shop/-db", "shop/db-", "sh.op/db",
            "shop/db_1", "shop/d b", "shop/db\n"})
    @DisplayName("anything Kubernetes would not accept as a namespace and a name is refused, naming what was given")
    void refusesMalformed(String text) {
        assertThatThrownBy(() -> ForwardRef.parse(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("forward must be NAMESPACE/NAME, got '" + text + "'");
    }

    @Test
    @DisplayName("a namespace longer than 63 characters or a name longer than 253 is refused; the limits themselves pass")
    void lengths() {
        assertThat(new ForwardRef("n".repeat(63), "x".repeat(253))).isNotNull();
        assertThatThrownBy(() -> new ForwardRef("n".repeat(64), "db")).hasMessageContaining("DNS-1123 label");
        assertThatThrownBy(() -> new ForwardRef("shop", "x".repeat(254))).hasMessageContaining("DNS-1123 subdomain");
        assertThatThrownBy(() -> ForwardRef.parse(null)).isInstanceOf(IllegalArgumentException.class);
    }
}
