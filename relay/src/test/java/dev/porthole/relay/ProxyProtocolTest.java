package dev.porthole.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ProxyProtocolTest {

    @Test
    @DisplayName("a v1 header names the client; the bytes after it, in the same read, go on untouched")
    void v1HeaderThenPayload() {
        // given
        EmbeddedChannel channel = new EmbeddedChannel();
        ProxyProtocol.install(channel);

        // when
        channel.writeInbound(Unpooled.copiedBuffer("PROXY TCP4 203.0.113.7 10.0.0.1 51000 7445\r\nhello",
                StandardCharsets.US_ASCII));

        // then
        ByteBuf after = channel.readInbound();
        assertThat(after.toString(StandardCharsets.US_ASCII)).isEqualTo("hello");
        after.release();
        assertThat(ProxyProtocol.clientOf(channel)).isEqualTo(new InetSocketAddress("203.0.113.7", 51000));
        assertThat(channel.pipeline().names()).doesNotContain("proxy-protocol", "proxy-protocol-decoder");
    }

    @Test
    @DisplayName("bytes that are no PROXY header fail the connection instead of passing as TLS")
    void noHeader() {
        EmbeddedChannel channel = new EmbeddedChannel();
        ProxyProtocol.install(channel);

        org.assertj.core.api.Assertions.assertThatThrownBy(() -> channel.writeInbound(
                Unpooled.copiedBuffer("\u0016\u0003\u0001 not a header at all, but long enough to be judged\r\n",
                        StandardCharsets.ISO_8859_1)))
                .isInstanceOf(io.netty.handler.codec.haproxy.HAProxyProtocolException.class);
    }
}
