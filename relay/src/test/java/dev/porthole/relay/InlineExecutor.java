package dev.porthole.relay;

import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/** Runs hooks and listener calls at once on the calling thread, or refuses every one as a full queue does. */
final class InlineExecutor extends AbstractExecutorService {
    private final boolean refuse;
    private volatile boolean shutdown;

    InlineExecutor() {
        this(false);
    }

    private InlineExecutor(boolean refuse) {
        this.refuse = refuse;
    }

    /** An executor whose queue is always full. */
    static InlineExecutor refusing() {
        return new InlineExecutor(true);
    }

    @Override
    public void execute(Runnable command) {
        if (refuse) {
            throw new RejectedExecutionException("queue full");
        }
        command.run();
    }

    @Override
    public void shutdown() {
        shutdown = true;
    }

    @Override
    public List<Runnable> shutdownNow() {
        shutdown = true;
        return List.of();
    }

    @Override
    public boolean isShutdown() {
        return shutdown;
    }

    @Override
    public boolean isTerminated() {
        return shutdown;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
        return true;
    }
}
