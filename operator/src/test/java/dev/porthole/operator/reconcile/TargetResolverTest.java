package dev.porthole.operator.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.porthole.api.v1alpha1.PortForward;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodListBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** What the resolver asks the API server: nothing when the informer cache shows the target, one read when it lags. */
@EnableKubernetesMockClient
class TargetResolverTest {
    KubernetesMockServer server;
    KubernetesClient client;

    @Test
    @DisplayName("a Running and Ready pod in the cache resolves without any request to the API server")
    void cachedPodNeedsNoRequest() throws Exception {
        // given
        int before = server.getRequestCount();
        TargetResolver resolver = new TargetResolver(client, cache(List.of(readyPod("db-0", Map.of("app", "db")))));

        // when
        ResolvedTarget target = resolver.resolve(forward("target: { pod: db-0, port: postgres }"));

        // then
        assertThat(target.podName()).isEqualTo("db-0");
        assertThat(target.port()).isEqualTo(5432);
        assertThat(server.getRequestCount()).isEqualTo(before);
    }

    @Test
    @DisplayName("a pod the cache does not show yet is read from the API server once")
    void missingFromCacheIsReadLive() throws Exception {
        // given
        server.expect().get().withPath("/api/v1/namespaces/shop/pods/db-0").andReturn(200, readyPod("db-0", Map.of())).once();
        int before = server.getRequestCount();
        TargetResolver resolver = new TargetResolver(client, cache(List.of()));

        // when
        ResolvedTarget target = resolver.resolve(forward("target: { pod: db-0, port: 5432 }"));

        // then
        assertThat(target.podName()).isEqualTo("db-0");
        assertThat(server.getRequestCount()).isEqualTo(before + 1);
    }

    @Test
    @DisplayName("a selector with no ready pod in the cache is listed live; none there either is a clear refusal")
    void selectorFallsBackThenRefuses() {
        // given
        server.expect().get().withPath("/api/v1/namespaces/shop/pods?labelSelector=app%3Ddb")
                .andReturn(200, new PodListBuilder().build()).once();
        TargetResolver resolver = new TargetResolver(client, cache(List.of()));

        // when / then
        assertThatThrownBy(() -> resolver.resolve(forward("target: { selector: { app: db }, port: 5432 }")))
                .isInstanceOf(TargetUnavailableException.class)
                .hasMessage("no Running and Ready pod matches selector {app=db} in namespace shop");
    }

    @Test
    @DisplayName("among several ready pods in the cache the oldest is chosen, the same every time")
    void oldestReadyPodWins() throws Exception {
        // given
        Pod newer = new PodBuilder(readyPod("db-b", Map.of("app", "db"))).editMetadata()
                .withCreationTimestamp("2026-12-02T00:00:10Z").endMetadata().build();
        Pod older = new PodBuilder(readyPod("db-a", Map.of("app", "db"))).editMetadata()
                .withCreationTimestamp("2026-12-02T00:00:00Z").endMetadata().build();
        TargetResolver resolver = new TargetResolver(client, cache(List.of(newer, older)));

        // when
        ResolvedTarget target = resolver.resolve(forward("target: { selector: { app: db }, port: 5432 }"));

        // then
        assertThat(target.podName()).isEqualTo("db-a");
    }

    private static TargetResolver.PodLookup cache(List<Pod> pods) {
        return new TargetResolver.PodLookup() {
            @Override
            public Optional<Pod> byName(String namespace, String name) {
                return pods.stream().filter(p -> p.getMetadata().getName().equals(name)).findFirst();
            }

            @Override
            public List<Pod> bySelector(String namespace, Map<String, String> selector) {
                return pods.stream().filter(p -> p.getMetadata().getLabels().entrySet().containsAll(selector.entrySet())).toList();
            }
        };
    }

    private static PortForward forward(String target) {
        return Serialization.unmarshal("""
                apiVersion: porthole.dev/v1alpha1
                kind: PortForward
                metadata: { name: db, namespace: shop }
                spec:
                  %s
                  audience: { users: [alice] }
                  ttl: 10m
                """.formatted(target), PortForward.class);
    }

    private static Pod readyPod(String name, Map<String, String> labels) {
        return new PodBuilder().withNewMetadata().withName(name).withNamespace("shop").withLabels(labels)
                .withCreationTimestamp("2026-12-02T00:00:00Z").endMetadata()
                .withNewSpec().addNewContainer().withName("pg").addNewPort().withName("postgres").withContainerPort(5432)
                .endPort().endContainer().endSpec()
                .withNewStatus().withPhase("Running").addNewCondition().withType("Ready").withStatus("True").endCondition()
                .endStatus().build();
    }
}
