package dev.porthole.helmtest.support;

import io.fabric8.kubernetes.client.http.AsyncBody;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.HttpResponse;
import io.fabric8.kubernetes.client.http.Interceptor;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Sees every response a Kubernetes client receives, and remembers each 403 (method and URI), so a test
 * can prove that a component under given RBAC was never refused anything.
 */
public final class ForbiddenRecorder implements Interceptor {
    private final List<String> forbidden = new CopyOnWriteArrayList<>();
    private final AtomicLong responses = new AtomicLong();

    @Override
    public void after(HttpRequest request, HttpResponse<?> response, AsyncBody.Consumer<List<ByteBuffer>> consumer) {
        responses.incrementAndGet();
        if (response.code() == 403) {
            forbidden.add(request.method() + " " + request.uri());
        }
    }

    /** Every refused request, as "METHOD URI". */
    public List<String> forbidden() {
        return List.copyOf(forbidden);
    }

    /** How many responses were seen (to show the recorder was in the path). */
    public long responses() {
        return responses.get();
    }
}
