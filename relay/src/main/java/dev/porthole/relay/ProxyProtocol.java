package dev.porthole.relay;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.util.AttributeKey;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * The PROXY protocol (v1 and v2, Netty's decoder) in front of TLS on the external client listener: the load
 * balancer's header names the client, which then stands for the connection's address everywhere the relay uses one
 * ({@code sourceRanges}, the audit, logs). A connection that does not start with a valid header is closed.
 */
final class ProxyProtocol extends ChannelInboundHandlerAdapter {
    private static final AttributeKey<InetSocketAddress> CLIENT = AttributeKey.valueOf("porthole.proxied.client");

    /** Puts the header's decoder and reader first in {@code channel}'s pipeline, before TLS. */
    static void install(Channel channel) {
        channel.pipeline().addFirst("proxy-protocol", new ProxyProtocol());
        channel.pipeline().addFirst("proxy-protocol-decoder", new HAProxyMessageDecoder());
    }

    /** The client's address: the one a PROXY header named, else the connection's own. */
    static InetSocketAddress clientOf(Channel channel) {
        InetSocketAddress proxied = channel.attr(CLIENT).get();
        return proxied != null ? proxied : (InetSocketAddress) channel.remoteAddress();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws UnknownHostException {
        if (!(msg instanceof HAProxyMessage header)) {
            ctx.fireChannelRead(msg);
            return;
        }
        try {
            // LOCAL is the balancer's own health check: it keeps the connection's address
            if (header.command() == HAProxyCommand.PROXY && header.sourceAddress() != null) {
                ctx.channel().attr(CLIENT).set(new InetSocketAddress(
                        InetAddress.getByName(header.sourceAddress()), header.sourcePort()));
            }
        } finally {
            header.release();
        }
        // Netty's decoder removes itself after the one header and passes the bytes after it (TLS) on
        ctx.pipeline().remove(this);
    }
}
