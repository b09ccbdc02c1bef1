package dev.porthole.sidecar;

import dev.porthole.protocol.ForwardRef;
import dev.porthole.protocol.RelayAddress;
import dev.porthole.protocol.pki.KeyMaterial;
import dev.porthole.protocol.pki.Pem;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads the agent's configuration from environment variables (the contract with the operator, which
 * injects them into the ephemeral container) and the equivalent {@code --flags}, flags winning:
 *
 * <pre>
 * PORTHOLE_RELAY_ADDRESS   --relay-address   host:port of the relays' agent listener (required); the agent keeps a
 *                                            control connection to every address the host resolves to (a headless
 *                                            Service names every replica); several host:port separated by commas
 * PORTHOLE_FORWARD         --forward         namespace/name (required)
 * PORTHOLE_AGENT_TOKEN     --agent-token     the agent token, or
 * PORTHOLE_TOKEN_FILE      --token-file      a file holding it
 * PORTHOLE_CA_PEM          --ca-pem          PEM of the CA that signs the relay's certificate, or
 * PORTHOLE_CA_FILE         --ca-file         a file holding it
 * PORTHOLE_AGENT_CERT_PEM  --agent-cert-pem  PEM of the agent certificate chain (leaf first) for this forward, or
 * PORTHOLE_AGENT_CERT_FILE --agent-cert-file a file holding it
 * PORTHOLE_AGENT_KEY_PEM   --agent-key-pem   PEM (PKCS#8) of its private key, or
 * PORTHOLE_AGENT_KEY_FILE  --agent-key-file  a file holding it
 * PORTHOLE_TARGET_HOST     --target-host     default 127.0.0.1
 * PORTHOLE_TARGET_PORT     --target-port     (required)
 * PORTHOLE_DEADLINE        --deadline        RFC 3339 instant at which the agent exits (required)
 * </pre>
 *
 * <p>The agent certificate is what the agent presents to clients at the end-to-end TLS handshake; the operator issues
 * it into the forward's Secret. It is checked here to name {@code PORTHOLE_FORWARD} and to match its key, so that a
 * mix-up fails at start with the variable named, not later as a handshake every client refuses.
 */
public final class AgentSettings {

    public static final List<String> VARIABLES = List.of("PORTHOLE_RELAY_ADDRESS", "PORTHOLE_FORWARD",
            "PORTHOLE_AGENT_TOKEN", "PORTHOLE_TOKEN_FILE", "PORTHOLE_CA_PEM", "PORTHOLE_CA_FILE", "PORTHOLE_AGENT_CERT_PEM",
            "PORTHOLE_AGENT_CERT_FILE", "PORTHOLE_AGENT_KEY_PEM", "PORTHOLE_AGENT_KEY_FILE", "PORTHOLE_TARGET_HOST",
            "PORTHOLE_TARGET_PORT", "PORTHOLE_DEADLINE");

    private AgentSettings() {
    }

    /** Thrown with a message naming the variable at fault. */
    public static final class InvalidSettingsException extends RuntimeException {
        public InvalidSettingsException(String message) {
            super(message);
        }
    }

    public static AgentConfig read(Map<String, String> environment, String[] args) {
        Map<String, String> values = new HashMap<>();
        for (String name : VARIABLES) {
            String value = environment.get(name);
            if (value != null && !value.isBlank()) {
                values.put(name, value.trim());
            }
        }
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("--")) {
                throw new InvalidSettingsException("unexpected argument " + arg);
            }
            String flag = arg.substring(2);
            String value;
            int eq = flag.indexOf('=');
            if (eq >= 0) {
                value = flag.substring(eq + 1);
                flag = flag.substring(0, eq);
            } else if (i + 1 < args.length) {
                value = args[++i];
            } else {
                throw new InvalidSettingsException("flag --" + flag + " needs a value");
            }
            String name = "PORTHOLE_" + flag.toUpperCase(Locale.ROOT).replace('-', '_');
            if (!VARIABLES.contains(name)) {
                throw new InvalidSettingsException("unknown flag --" + flag);
            }
            values.put(name, value.trim());
        }
        List<RelayAddress> relays = new java.util.ArrayList<>();
        for (String entry : require(values, "PORTHOLE_RELAY_ADDRESS").split(",")) {
            String[] hostPort = hostPort(entry.strip());
            relays.add(new RelayAddress(hostPort[0], port(hostPort[1], "PORTHOLE_RELAY_ADDRESS")));
        }
        ForwardRef forward;
        try {
            forward = ForwardRef.parse(require(values, "PORTHOLE_FORWARD"));
        } catch (IllegalArgumentException e) {
            throw new InvalidSettingsException("PORTHOLE_FORWARD: " + e.getMessage());
        }
        String token = values.containsKey("PORTHOLE_AGENT_TOKEN") ? values.get("PORTHOLE_AGENT_TOKEN")
                : values.containsKey("PORTHOLE_TOKEN_FILE") ? file(values.get("PORTHOLE_TOKEN_FILE"), "PORTHOLE_TOKEN_FILE").trim()
                : null;
        if (token == null || token.isEmpty()) {
            throw new InvalidSettingsException("set PORTHOLE_AGENT_TOKEN or PORTHOLE_TOKEN_FILE");
        }
        X509Certificate ca;
        try {
            ca = Pem.readCertificate(pem(values, "PORTHOLE_CA_PEM", "PORTHOLE_CA_FILE").text());
        } catch (IllegalArgumentException e) {
            throw new InvalidSettingsException("CA certificate: " + e.getMessage());
        }
        KeyMaterial agentKey = AgentKeys.read(pem(values, "PORTHOLE_AGENT_CERT_PEM", "PORTHOLE_AGENT_CERT_FILE"),
                pem(values, "PORTHOLE_AGENT_KEY_PEM", "PORTHOLE_AGENT_KEY_FILE"), forward);
        int targetPort = port(require(values, "PORTHOLE_TARGET_PORT"), "PORTHOLE_TARGET_PORT");
        Instant deadline;
        try {
            deadline = java.time.OffsetDateTime.parse(require(values, "PORTHOLE_DEADLINE")).toInstant();
        } catch (DateTimeParseException e) {
            throw new InvalidSettingsException("PORTHOLE_DEADLINE must be an RFC 3339 instant, e.g. 2026-11-25T18:00:00Z");
        }
        return AgentConfig.of(relays, forward, token, ca,
                agentKey, values.getOrDefault("PORTHOLE_TARGET_HOST", "127.0.0.1"), targetPort, deadline);
    }

    /** Splits {@code host:port} or {@code [v6]:port}. */
    public static String[] hostPort(String address) {
        int colon = address.lastIndexOf(':');
        if (colon <= 0 || colon == address.length() - 1) {
            throw new InvalidSettingsException("address must be host:port, got " + address);
        }
        String host = address.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return new String[] {host, address.substring(colon + 1)};
    }

    private static String require(Map<String, String> values, String name) {
        String value = values.get(name);
        if (value == null) {
            throw new InvalidSettingsException(name + " is required (or --"
                    + name.substring("PORTHOLE_".length()).toLowerCase(Locale.ROOT).replace('_', '-') + ")");
        }
        return value;
    }

    private static int port(String text, String name) {
        try {
            int port = Integer.parseInt(text);
            if (port < 1 || port > 65535) {
                throw new NumberFormatException();
            }
            return port;
        } catch (NumberFormatException e) {
            throw new InvalidSettingsException(name + ": invalid port " + text);
        }
    }

    /** PEM text and the variable it came from, so that an error about its contents can name that variable. */
    record PemSetting(String variable, String text) {
    }

    /** The PEM given inline in {@code pemName}, else read from the file {@code fileName} names; one of them is required. */
    private static PemSetting pem(Map<String, String> values, String pemName, String fileName) {
        if (values.containsKey(pemName)) {
            return new PemSetting(pemName, values.get(pemName));
        }
        if (values.containsKey(fileName)) {
            return new PemSetting(fileName, file(values.get(fileName), fileName));
        }
        throw new InvalidSettingsException("set " + pemName + " or " + fileName);
    }

    private static String file(String path, String name) {
        try {
            return Pem.readFile(Path.of(path));
        } catch (RuntimeException e) {
            throw new InvalidSettingsException(name + ": cannot read " + path);
        }
    }
}
