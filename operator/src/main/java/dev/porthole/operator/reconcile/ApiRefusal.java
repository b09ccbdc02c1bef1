package dev.porthole.operator.reconcile;

import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.Optional;

/**
 * What an API server's refusal of one of the operator's own writes means for the forward, in words a user or an
 * administrator can act on. Only refusals that retrying cannot cure become a reason (forbidden, refused by admission
 * or validation, the object gone); a conflict or an unreachable API server is left to the retry that follows.
 */
public final class ApiRefusal {
    private ApiRefusal() {
    }

    /** {@code what}: the write, e.g. "adding the agent to pod db-0" (its subject is the operator). */
    public static Optional<String> explain(KubernetesClientException e, String what) {
        String detail = e.getStatus() != null && e.getStatus().getMessage() != null ? e.getStatus().getMessage() : e.getMessage();
        return switch (e.getCode()) {
            case 403 -> Optional.of(what + " was forbidden (" + detail + "): the operator's ServiceAccount needs that right,"
                    + " or an admission policy of the cluster refuses it");
            case 400, 422 -> Optional.of(what + " was refused by the API server (" + detail + ")");
            case 404 -> Optional.of(what + " failed: it no longer exists (" + detail + ")");
            default -> Optional.empty();
        };
    }
}
