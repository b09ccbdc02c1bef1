package dev.porthole.testcluster;

import java.nio.file.Path;

/** Kubeconfig files for the cluster's own components, which authenticate with client certificates. */
final class Kubeconfigs {
    private Kubeconfigs() {
    }

    static String clientCertificate(String server, Path ca, String user, ClusterPki.Pair credentials) {
        return "apiVersion: v1\nkind: Config\nclusters:\n- name: porthole-local\n  cluster:\n"
                + "    server: " + server + "\n"
                + "    certificate-authority: " + ca + "\n"
                + "users:\n- name: " + user + "\n  user:\n"
                + "    client-certificate: " + credentials.certificate() + "\n"
                + "    client-key: " + credentials.key() + "\n"
                + "contexts:\n- name: " + user + "\n  context:\n    cluster: porthole-local\n    user: " + user + "\n"
                + "current-context: " + user + "\n";
    }
}
