package dev.porthole.testcluster;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/** Runs a test class against the shared local control plane; see {@link TestClusterExtension}. */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(TestClusterExtension.class)
public @interface LocalCluster {
    /**
     * With a {@link RealNode}: the kubelet runs the pods, from the images this checkout builds. Started once per test
     * JVM like the loopback-only cluster, and beside it when both are asked for.
     */
    boolean realNode() default false;
}
