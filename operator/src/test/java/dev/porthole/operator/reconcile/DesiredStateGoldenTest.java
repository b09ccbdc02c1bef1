package dev.porthole.operator.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.operator.RelayEndpoints;
import dev.porthole.operator.time.Expiry;
import dev.porthole.pki.CertificateAuthority;
import io.fabric8.kubernetes.api.model.EphemeralContainer;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What the operator would create for a forward, with no cluster: each {@code golden/in-<case>.yaml} (a forward, then
 * {@code ---} and its target pod) gives {@code golden/out-<Kind>-<case>.yaml} for the agent's ephemeral container and the token
 * Secret (its random token and fresh agent certificate and key replaced by placeholders). Run with {@code -Dporthole.golden.update=true} to rewrite the
 * expected files after an intended change, and review the diff.
 */
class DesiredStateGoldenTest {
    private static final Path DIR = Path.of("src/test/resources/golden");
    private static final RelayEndpoints RELAY = new RelayEndpoints("porthole-relay.porthole-system.svc:7443",
            "porthole-relay.example.com:443", "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n");
    private static final CertificateAuthority CA = CertificateAuthority.create("Porthole CA", Duration.ofDays(1));
    /** What differs on every run (random token, fresh key), shown as what it is; AgentTokenSecretTest checks it. */
    private static final Map<String, String> PLACEHOLDERS = Map.of(
            AgentTokenSecret.TOKEN_KEY, "<256 random bits, base64url>",
            AgentTokenSecret.CERT_KEY, "<agent certificate chain for the forward, PEM>",
            AgentTokenSecret.KEY_KEY, "<its private key, PKCS#8 PEM>");

    static Stream<String> cases() throws IOException {
        try (Stream<Path> files = Files.list(DIR)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("in-") && n.endsWith(".yaml"))
                    .map(n -> n.substring(3, n.length() - 5)).sorted().toList().stream();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void desiredState(String name) throws Exception {
        // given
        String[] docs = Files.readString(DIR.resolve("in-" + name + ".yaml")).split("(?m)^---$");
        PortForward pf = Serialization.unmarshal(docs[0], PortForward.class);
        Pod pod = Serialization.unmarshal(docs[1], Pod.class);
        ResolvedTarget target = new TargetResolver(null, new TargetResolver.PodLookup() {
            @Override
            public java.util.Optional<Pod> byName(String namespace, String podName) {
                return java.util.Optional.of(pod);
            }

            @Override
            public List<Pod> bySelector(String namespace, java.util.Map<String, String> selector) {
                return List.of(pod);
            }
        }).resolve(pf);

        // when
        EphemeralContainer agent = new AgentInjector(null, "ghcr.io/porthole-dev/porthole-agent:0.1.0", RELAY)
                .agentContainer(pf, target, AgentInjector.containerName(pf), Expiry.of(pf));
        Secret token = new AgentTokenSecret(CA).desired(pf, null);
        token.getStringData().replaceAll((k, v) -> PLACEHOLDERS.getOrDefault(k, v));

        // then
        compare("out-EphemeralContainer-" + name + ".yaml", Serialization.asYaml(agent));
        compare("out-Secret-" + name + ".yaml", Serialization.asYaml(token));
    }

    private static void compare(String file, String actual) throws IOException {
        Path expected = DIR.resolve(file);
        if (Boolean.getBoolean("porthole.golden.update")) {
            Files.writeString(expected, actual);
        }
        assertThat(expected).as("no expected file: write it with -Dporthole.golden.update=true and review it").exists();
        assertThat(actual).as("%s differs: rerun with -Dporthole.golden.update=true after an intended change", expected)
                .isEqualTo(Files.readString(expected));
    }
}
