package dev.porthole.operator.support;

import dev.porthole.testcluster.TestClusterExtension;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One {@link RunningOperator} on the shared cluster for all tests of a class, stopped after the last:
 * {@code @RegisterExtension static final OperatorPerClass operator = new OperatorPerClass();}
 */
public final class OperatorPerClass implements BeforeAllCallback, AfterAllCallback {
    private RunningOperator operator;

    @Override
    public void beforeAll(ExtensionContext context) {
        operator = RunningOperator.start(TestClusterExtension.sharedCluster(context));
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (operator != null) {
            operator.close();
            operator = null;
        }
    }

    public RunningOperator get() {
        return operator;
    }
}
