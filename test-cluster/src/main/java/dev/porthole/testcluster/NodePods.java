package dev.porthole.testcluster;

import java.util.List;

/**
 * Manifests of the test targets that run on the {@link RealNode}, from the images {@link NodeImages} builds. Each
 * listens on its own 127.0.0.1 only (nothing outside the pod reaches it) and is hardened as the restricted Pod
 * Security level asks.
 */
public final class NodePods {
    /** The restricted Pod Security level's container settings, as a container's {@code securityContext} block. */
    private static final String HARDENED = """
                  securityContext:
                    runAsNonRoot: true
                    readOnlyRootFilesystem: true
                    allowPrivilegeEscalation: false
                    capabilities: { drop: [ALL] }
                    seccompProfile: { type: RuntimeDefault }
                """.stripTrailing();

    private NodePods() {
    }

    /** PostgreSQL on 127.0.0.1:5432, trusting local connections, its data in an emptyDir, ready once pg_isready answers. */
    public static String postgres(String name) {
        return pod(name, 1, """
                - name: postgres
                  image: %s
                  imagePullPolicy: Never
                  ports: [{ name: postgres, containerPort: 5432 }]
                  readinessProbe:
                    exec: { command: [pg_isready, -h, 127.0.0.1, -p, "5432"] }
                    periodSeconds: 1
                %s
                  volumeMounts:
                    - { name: data, mountPath: /var/lib/postgresql/data }
                    - { name: run, mountPath: /var/run/postgresql }
                    - { name: tmp, mountPath: /tmp }
                """.formatted(NodeImages.POSTGRES, HARDENED), List.of("data", "run", "tmp"));
    }

    /** Redis on 127.0.0.1:6379, no persistence, ready once it answers PING. */
    public static String redis(String name) {
        return pod(name, 1, """
                - name: redis
                  image: %s
                  imagePullPolicy: Never
                  ports: [{ name: redis, containerPort: 6379 }]
                  readinessProbe:
                    exec: { command: [redis-cli, -h, 127.0.0.1, ping] }
                    periodSeconds: 1
                %s
                  volumeMounts: [{ name: data, mountPath: /var/lib/redis }]
                """.formatted(NodeImages.REDIS, HARDENED), List.of("data"));
    }

    /** An HTTP server (busybox httpd) on 127.0.0.1:8080, whose index page says {@code greeting}. */
    public static String web(String name, String greeting) {
        if (greeting.contains("'") || greeting.contains("\n")) {
            throw new IllegalArgumentException("a greeting is one line without quotes: " + greeting);
        }
        return pod(name, 1, """
                - name: web
                  image: %s
                  imagePullPolicy: Never
                  command: [sh, -c, "echo '%s' > /srv/www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /srv/www"]
                  ports: [{ name: http, containerPort: 8080 }]
                  readinessProbe:
                    exec: { command: [wget, -q, -O, /dev/null, "http://127.0.0.1:8080/"] }
                    periodSeconds: 1
                %s
                  volumeMounts: [{ name: www, mountPath: /srv/www }]
                """.formatted(NodeImages.TOOLS, greeting, HARDENED), List.of("www"));
    }

    /** A pod with the tools image's busybox applets (nc, wget) and nothing listening: a neighbour on the node's bridge. */
    public static String neighbour(String name) {
        return pod(name, 0, """
                - name: tools
                  image: %s
                  imagePullPolicy: Never
                  command: [sh, -c, "trap 'exit 0' TERM; while :; do sleep 1; done"]
                %s""".formatted(NodeImages.TOOLS, HARDENED), List.of());
    }

    /** A pod of one container (a YAML list item at column 0) and the emptyDir volumes it mounts. */
    private static String pod(String name, int gracePeriodSeconds, String container, List<String> emptyDirs) {
        StringBuilder yaml = new StringBuilder("""
                apiVersion: v1
                kind: Pod
                metadata: { name: %s, labels: { app: %s } }
                spec:
                  terminationGracePeriodSeconds: %d
                  containers:
                """.formatted(name, name, gracePeriodSeconds));
        container.lines().forEach(l -> yaml.append("    ").append(l).append('\n'));
        if (!emptyDirs.isEmpty()) {
            yaml.append("  volumes:\n");
            emptyDirs.forEach(v -> yaml.append("    - { name: ").append(v).append(", emptyDir: {} }\n"));
        }
        return yaml.toString();
    }
}
