package dev.porthole.testcluster;

import java.nio.file.Files;
import java.nio.file.Path;

/** The Porthole checkout a test, the demo or a benchmark runs in: its images and jars are built there. */
public final class Checkout {
    private Checkout() {
    }

    /** The nearest directory at or above the working directory that holds scripts/build-images.sh. */
    public static Path root() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.exists(p.resolve("scripts/build-images.sh"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("run from a Porthole checkout (no scripts/build-images.sh above "
                    + Path.of("").toAbsolutePath() + ")");
        }
        return p;
    }
}
