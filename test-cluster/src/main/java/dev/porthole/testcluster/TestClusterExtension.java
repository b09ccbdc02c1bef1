package dev.porthole.testcluster;

import java.nio.file.Path;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * Gives tests the shared {@link TestCluster} (started once per test JVM, stopped when the run ends,
 * also after failures) and a fresh {@link TestNamespace} per test method, deleted afterwards.
 * Its work directory is {@code target/local-cluster} (with a real node, {@code target/local-cluster-node}) of the
 * module under test.
 */
public class TestClusterExtension implements BeforeEachCallback, AfterEachCallback, ParameterResolver {
    private static final ExtensionContext.Namespace STORE = ExtensionContext.Namespace.create(TestClusterExtension.class);

    /** The one cluster of this JVM of the kind the test class asks for ({@link LocalCluster#realNode()}). */
    public static TestCluster sharedCluster(ExtensionContext context) {
        boolean realNode = context.getTestClass().flatMap(c -> AnnotationSupport.findAnnotation(c, LocalCluster.class))
                .map(LocalCluster::realNode).orElse(false);
        String key = realNode ? "real-node" : "loopback";
        return context.getRoot().getStore(STORE)
                .getOrComputeIfAbsent(key, k -> new ClusterResource(realNode
                        ? TestCluster.startWithNode(Path.of("target", "local-cluster-node"), Checkout.root())
                        : TestCluster.start(Path.of("target", "local-cluster"))), ClusterResource.class)
                .cluster();
    }


    @Override
    public void beforeEach(ExtensionContext context) {
        TestCluster cluster = sharedCluster(context);
        String prefix = context.getRequiredTestClass().getSimpleName() + "-" + context.getRequiredTestMethod().getName();
        context.getStore(STORE).put(TestNamespace.class, new TestNamespace(cluster.createNamespace(prefix), cluster));
    }

    @Override
    public void afterEach(ExtensionContext context) {
        TestNamespace ns = context.getStore(STORE).remove(TestNamespace.class, TestNamespace.class);
        if (ns != null) {
            ns.cluster().deleteNamespace(ns.name());
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        Class<?> type = parameterContext.getParameter().getType();
        return type == TestCluster.class || type == TestNamespace.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameterContext, ExtensionContext context) {
        Class<?> type = parameterContext.getParameter().getType();
        if (type == TestCluster.class) {
            return sharedCluster(context);
        }
        TestNamespace ns = context.getStore(STORE).get(TestNamespace.class, TestNamespace.class);
        if (ns == null) {
            throw new ParameterResolutionException("TestNamespace is only available to test methods");
        }
        return ns;
    }

    private record ClusterResource(TestCluster cluster) implements ExtensionContext.Store.CloseableResource, AutoCloseable {
        @Override
        public void close() {
            cluster.close();
        }
    }
}
