package dev.porthole.testcluster;

/** Manifests of the test targets that run on the {@link RealNode}, from the images {@link NodeImages} builds. */
public final class NodePods {
    private NodePods() {
    }

    /**
     * A PostgreSQL pod listening on its own 127.0.0.1:5432 only (nothing outside the pod reaches it), hardened as
     * the restricted Pod Security level asks, its data in an emptyDir, ready once {@code pg_isready} answers.
     */
    public static String postgres(String name) {
        return """
                apiVersion: v1
                kind: Pod
                metadata: { name: %s, labels: { app: %s } }
                spec:
                  terminationGracePeriodSeconds: 1
                  containers:
                    - name: postgres
                      image: %s
                      imagePullPolicy: Never
                      ports: [{ name: postgres, containerPort: 5432 }]
                      readinessProbe:
                        exec: { command: [pg_isready, -h, 127.0.0.1, -p, "5432"] }
                        periodSeconds: 1
                      securityContext:
                        runAsNonRoot: true
                        readOnlyRootFilesystem: true
                        allowPrivilegeEscalation: false
                        capabilities: { drop: [ALL] }
                        seccompProfile: { type: RuntimeDefault }
                      volumeMounts:
                        - { name: data, mountPath: /var/lib/postgresql/data }
                        - { name: run, mountPath: /var/run/postgresql }
                        - { name: tmp, mountPath: /tmp }
                  volumes:
                    - { name: data, emptyDir: {} }
                    - { name: run, emptyDir: {} }
                    - { name: tmp, emptyDir: {} }
                """.formatted(name, name, NodeImages.POSTGRES);
    }

    /** Redis listening on its own 127.0.0.1:6379 only, no persistence, ready once it answers PING. */
    public static String redis(String name) {
        return """
                apiVersion: v1
                kind: Pod
                metadata: { name: %s, labels: { app: %s } }
                spec:
                  terminationGracePeriodSeconds: 1
                  containers:
                    - name: redis
                      image: %s
                      imagePullPolicy: Never
                      ports: [{ name: redis, containerPort: 6379 }]
                      readinessProbe:
                        exec: { command: [redis-cli, -h, 127.0.0.1, ping] }
                        periodSeconds: 1
                %s
                      volumeMounts: [{ name: data, mountPath: /var/lib/redis }]
                  volumes: [{ name: data, emptyDir: {} }]
                """.formatted(name, name, NodeImages.REDIS, HARDENED);
    }

    /** An HTTP server (busybox httpd) on its own 127.0.0.1:8080 only, whose index page says {@code greeting}. */
    public static String web(String name, String greeting) {
        if (greeting.contains("'") || greeting.contains("\n")) {
            throw new IllegalArgumentException("a greeting is one line without quotes: " + greeting);
        }
        return """
                apiVersion: v1
                kind: Pod
                metadata: { name: %s, labels: { app: %s } }
                spec:
                  terminationGracePeriodSeconds: 1
                  containers:
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
                  volumes: [{ name: www, emptyDir: {} }]
                """.formatted(name, name, NodeImages.TOOLS, greeting, HARDENED);
    }

    /** A pod with the tools image's busybox applets (nc, wget) and nothing listening: a neighbour on the node's bridge. */
    public static String neighbour(String name) {
        return """
                apiVersion: v1
                kind: Pod
                metadata: { name: %s, labels: { app: %s } }
                spec:
                  terminationGracePeriodSeconds: 0
                  containers:
                    - name: tools
                      image: %s
                      imagePullPolicy: Never
                      command: [sh, -c, "trap 'exit 0' TERM; while :; do sleep 1; done"]
                %s
                """.formatted(name, name, NodeImages.TOOLS, HARDENED);
    }

    /** The restricted Pod Security level's container settings, as a container's {@code securityContext} block. */
    private static final String HARDENED = """
                      securityContext:
                        runAsNonRoot: true
                        readOnlyRootFilesystem: true
                        allowPrivilegeEscalation: false
                        capabilities: { drop: [ALL] }
                        seccompProfile: { type: RuntimeDefault }
                """;
}
