package dev.porthole.relay;

import dev.porthole.protocol.ForwardRef;
import dev.porthole.protocol.BindScope;
import dev.porthole.protocol.pki.ClientIdentity;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * Authentication and authorisation for a standalone relay, from its config file:
 * {@code forward.NS/NAME.token}, {@code .uid}, {@code .users}, {@code .groups}, {@code .scope},
 * {@code .expires-at}. The uid plays the part of a PortForward's {@code metadata.uid}: client certificates
 * carry it, and a new uid for the same name retires every certificate issued before.
 */
final class StaticForwards implements AgentAuthenticator, SessionAuthorizer {

    record Forward(String token, String uid, List<String> users, List<String> groups, BindScope scope, Instant expiresAt) {
    }

    private final Map<ForwardRef, Forward> forwards;
    private final Clock clock;

    StaticForwards(Map<ForwardRef, Forward> forwards, Clock clock) {
        this.forwards = Map.copyOf(forwards);
        this.clock = clock;
    }

    static StaticForwards fromProperties(Properties properties, Clock clock) {
        Map<ForwardRef, Forward> forwards = new HashMap<>();
        for (String key : properties.stringPropertyNames()) {
            if (key.startsWith("forward.") && key.endsWith(".token")) {
                String name = key.substring("forward.".length(), key.length() - ".token".length());
                String prefix = "forward." + name + ".";
                String uid = properties.getProperty(prefix + "uid");
                if (uid == null) {
                    throw new IllegalArgumentException(prefix + "uid is missing: client certificates are bound to it");
                }
                forwards.put(ForwardRef.parse(name), new Forward(properties.getProperty(key).trim(),
                        ClientIdentity.checkUid(uid.trim()),
                        list(properties.getProperty(prefix + "users")), list(properties.getProperty(prefix + "groups")),
                        BindScope.parse(properties.getProperty(prefix + "scope", "Loopback")),
                        Instant.parse(properties.getProperty(prefix + "expires-at", "9999-12-31T23:59:59Z"))));
            }
        }
        return new StaticForwards(forwards, clock);
    }

    Map<ForwardRef, Forward> forwards() {
        return forwards;
    }

    @Override
    public boolean authenticate(ForwardRef forward, String token) {
        Forward f = forwards.get(forward);
        return f != null && clock.instant().isBefore(f.expiresAt()) && MessageDigest.isEqual(
                f.token().getBytes(StandardCharsets.UTF_8), token.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public Decision authorize(ClientIdentity identity, ForwardRef forward, InetSocketAddress clientAddress) {
        Forward f = forwards.get(forward);
        if (f == null) {
            return Decision.deny("forward " + forward + " is not served by this relay");
        }
        // a standalone relay's forwards are Active for as long as its config names them
        ForwardAccess.Forward facts = new ForwardAccess.Forward(f.uid(), f.expiresAt(), false, Optional.empty(),
                (user, groups) -> f.users().contains(user) || groups.stream().anyMatch(f.groups()::contains));
        Optional<String> refusal = ForwardAccess.refusal(forward, facts,
                ForwardAccess.Requester.withCertificate(identity.username(), identity.groups(), identity.forwardUid()),
                clock.instant());
        if (refusal.isPresent()) {
            return Decision.deny(refusal.get());
        }
        return Decision.allow(f.scope(), f.expiresAt());
    }

    private static List<String> list(String csv) {
        return csv == null || csv.isBlank() ? List.of()
                : Arrays.stream(csv.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }
}
