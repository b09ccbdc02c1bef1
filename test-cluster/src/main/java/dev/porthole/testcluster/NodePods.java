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
}
