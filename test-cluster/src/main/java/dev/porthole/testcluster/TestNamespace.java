package dev.porthole.testcluster;

/** A namespace made for one test method and deleted after it. */
public record TestNamespace(String name, TestCluster cluster) {
}
