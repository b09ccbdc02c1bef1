package dev.porthole.testcluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Directories for test services that run as an unprivileged user (PostgreSQL as {@code postgres}). Such a
 * user must be able to pass through every directory above its data; a checkout under a private directory
 * (for example one made by {@code mktemp -d}, mode 0700) does not allow that. Then the service gets a
 * directory of the same name under the system temporary directory instead: derived from the wanted path,
 * so re-runs reuse it and nothing accumulates.
 */
public final class ServiceDirectories {
    private static final String FALLBACK_ROOT = "porthole-services";

    private ServiceDirectories() {
    }

    /** {@code wanted} if an unprivileged user can reach it, else its stand-in under the temporary directory; created, mode 0755. */
    public static Path reachableByServiceUsers(Path wanted) throws IOException {
        Path absolute = wanted.toAbsolutePath().normalize();
        Path dir = othersMayTraverse(absolute.getParent()) ? absolute : fallback(absolute);
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        return dir;
    }

    private static Path fallback(Path wanted) throws IOException {
        Path root = Path.of(System.getProperty("java.io.tmpdir"), FALLBACK_ROOT);
        Files.createDirectories(root);
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        return root.resolve(wanted.getFileName() + "-" + digest(wanted.toString()));
    }

    private static boolean othersMayTraverse(Path dir) throws IOException {
        for (Path p = dir; p != null; p = p.getParent()) {
            if (Files.exists(p) && !Files.getPosixFilePermissions(p).contains(PosixFilePermission.OTHERS_EXECUTE)) {
                return false;
            }
        }
        return true;
    }

    private static String digest(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)), 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
