package dev.porthole.e2e.podrunner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.EnvFromSourceBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class EnvResolverTest {
    private final EnvResolver resolver = new EnvResolver(new EnvResolver.Objects() {
        @Override
        public Optional<Map<String, String>> secret(String namespace, String name) {
            return namespace.equals("shop") && name.equals("agent") ? Optional.of(Map.of("token", "s3cret")) : Optional.empty();
        }

        @Override
        public Optional<Map<String, String>> configMap(String namespace, String name) {
            return name.equals("settings") ? Optional.of(Map.of("LEVEL", "debug", "PORT", "8080")) : Optional.empty();
        }
    });

    @Test
    @DisplayName("resolves values, Secret and ConfigMap keys and field refs; env overrides envFrom")
    void resolvesAllSources() throws Exception {
        // given
        List<EnvVar> env = List.of(
                new EnvVar("A", "plain", null),
                new EnvVarBuilder().withName("TOKEN").withNewValueFrom().withNewSecretKeyRef().withName("agent")
                        .withKey("token").endSecretKeyRef().endValueFrom().build(),
                new EnvVarBuilder().withName("LEVEL").withNewValueFrom().withNewConfigMapKeyRef().withName("settings")
                        .withKey("LEVEL").endConfigMapKeyRef().endValueFrom().build(),
                new EnvVarBuilder().withName("POD_IP").withNewValueFrom().withNewFieldRef().withFieldPath("status.podIP")
                        .endFieldRef().endValueFrom().build(),
                new EnvVar("APP_PORT", "override", null));

        // when
        Map<String, String> resolved = resolver.resolve("shop",
                List.of(new EnvFromSourceBuilder().withPrefix("APP_").withNewConfigMapRef().withName("settings").endConfigMapRef().build()),
                env, Map.of("status.podIP", "10.244.0.7"));

        // then
        assertThat(resolved).containsEntry("A", "plain").containsEntry("TOKEN", "s3cret").containsEntry("LEVEL", "debug")
                .containsEntry("POD_IP", "10.244.0.7").containsEntry("APP_LEVEL", "debug").containsEntry("APP_PORT", "override");
    }

    @Test
    @DisplayName("a missing Secret is a configuration error naming it, unless the reference is optional")
    void missingSecret() {
        // given
        EnvVar required = new EnvVarBuilder().withName("TOKEN").withNewValueFrom().withNewSecretKeyRef().withName("gone")
                .withKey("token").endSecretKeyRef().endValueFrom().build();
        EnvVar optional = new EnvVarBuilder().withName("TOKEN").withNewValueFrom().withNewSecretKeyRef().withName("gone")
                .withKey("token").withOptional(true).endSecretKeyRef().endValueFrom().build();

        // when / then
        assertThatThrownBy(() -> resolver.resolve("shop", null, List.of(required), Map.of()))
                .isInstanceOf(EnvResolver.ConfigException.class).hasMessage("secret \"gone\" not found");
        assertThat(resolve(optional)).doesNotContainKey("TOKEN");
    }

    @Test
    @DisplayName("a missing key of an existing Secret is a configuration error")
    void missingKey() {
        // given
        EnvVar var = new EnvVarBuilder().withName("TOKEN").withNewValueFrom().withNewSecretKeyRef().withName("agent")
                .withKey("nope").endSecretKeyRef().endValueFrom().build();

        // when / then
        assertThatThrownBy(() -> resolver.resolve("shop", null, List.of(var), Map.of()))
                .hasMessage("couldn't find key nope in secret agent");
    }

    @Test
    @DisplayName("expands $(VAR) of variables defined earlier, leaves unknown ones, and turns $$ into $")
    void expansion() {
        // given
        Map<String, String> defined = Map.of("HOST", "10.244.0.1", "PORT", "7443");

        // when / then
        assertThat(EnvResolver.expand("$(HOST):$(PORT)", defined)).isEqualTo("10.244.0.1:7443");
        assertThat(EnvResolver.expand("$(NOPE)/$$(HOST)/$5/$", defined)).isEqualTo("$(NOPE)/$(HOST)/$5/$");
        assertThat(EnvResolver.expand("$(HOST", defined)).isEqualTo("$(HOST");
    }

    private Map<String, String> resolve(EnvVar var) {
        try {
            return resolver.resolve("shop", null, List.of(var), Map.of());
        } catch (EnvResolver.ConfigException e) {
            throw new AssertionError(e);
        }
    }
}
