package dev.porthole.e2e.podrunner;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What the {@link LocalPodRunner} runs for an image: the image's entrypoint as a local command, and its
 * default arguments. A container's {@code args} replace the default arguments, as in Kubernetes; its
 * {@code command} is ignored (it names a path inside the image, which does not exist here), and the
 * runner logs that once per container.
 *
 * @param entrypoint  the local command, absolute paths preferred (processes do not inherit the caller's PATH)
 * @param defaultArgs arguments used when the container gives none
 */
public record ImageCommand(List<String> entrypoint, List<String> defaultArgs) {

    public ImageCommand {
        entrypoint = List.copyOf(entrypoint);
        defaultArgs = List.copyOf(defaultArgs);
        if (entrypoint.isEmpty()) {
            throw new IllegalArgumentException("entrypoint is empty");
        }
    }

    public static ImageCommand of(String... entrypoint) {
        return new ImageCommand(List.of(entrypoint), List.of());
    }

    /** {@code <this JVM's java> <jvmOptions> -jar <jar>}: how the project's own images run here. */
    public static ImageCommand javaJar(Path jar, String... jvmOptions) {
        Objects.requireNonNull(jar, "jar");
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of(jvmOptions));
        command.add("-jar");
        command.add(jar.toAbsolutePath().normalize().toString());
        return new ImageCommand(command, List.of());
    }

    public ImageCommand withDefaultArgs(String... args) {
        return new ImageCommand(entrypoint, List.of(args));
    }

    /** The full command line for a container with {@code containerArgs} (null or empty: the defaults). */
    public List<String> commandLine(List<String> containerArgs) {
        List<String> line = new ArrayList<>(entrypoint);
        line.addAll(containerArgs == null || containerArgs.isEmpty() ? defaultArgs : containerArgs);
        return line;
    }
}
