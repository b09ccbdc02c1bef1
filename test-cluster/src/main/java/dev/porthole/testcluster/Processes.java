package dev.porthole.testcluster;

import java.util.concurrent.TimeUnit;

/** Stopping the processes tests start. */
public final class Processes {

    private Processes() {
    }

    /** SIGTERM, then SIGKILL if the process still lives after 5 s; nothing for null. */
    public static void stop(Process process) {
        if (process == null) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
