package dev.porthole.e2e.podrunner;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One runner at a time owns the host's pod networks ({@code ph-br0}, {@code ph-*}). The lock is a file
 * lock, which the kernel drops when its process dies: whoever gets it knows that any {@code ph-*} left
 * on the host belongs to a dead run and may be removed.
 */
final class HostLock implements AutoCloseable {
    static final Path PATH = Path.of("/run/porthole-local-pod-runner.lock");

    private final FileChannel channel;
    private final FileLock lock;

    private HostLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    static HostLock acquire() {
        FileChannel channel = null;
        try {
            channel = FileChannel.open(PATH, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ);
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                String owner = new String(java.nio.file.Files.readAllBytes(PATH), StandardCharsets.UTF_8).strip();
                channel.close();
                throw new IllegalStateException("another LocalPodRunner (" + (owner.isEmpty() ? "unknown process" : owner)
                        + ") owns the pod networks (" + PodNetworks.BRIDGE + "); close it first");
            }
            channel.truncate(0);
            channel.write(java.nio.ByteBuffer.wrap(("pid " + ProcessHandle.current().pid()).getBytes(StandardCharsets.UTF_8)), 0);
            return new HostLock(channel, lock);
        } catch (IOException e) {
            try {
                if (channel != null) {
                    channel.close();
                }
            } catch (IOException ignored) {
                // nothing more to release
            }
            throw new IllegalStateException("cannot lock " + PATH + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            lock.release();
            channel.close();
        } catch (IOException e) {
            // the lock goes with the channel
        }
    }
}
