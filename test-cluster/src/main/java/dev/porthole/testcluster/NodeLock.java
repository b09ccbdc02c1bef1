package dev.porthole.testcluster;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One real node per machine: its link, addresses and cgroup root are fixed. The lock is a file lock, which the
 * kernel drops when its process dies, so whoever holds it knows that anything a node left on the machine belongs
 * to a dead run and may be undone. A second run (a CI clone beside a developer's test) waits for the first.
 */
final class NodeLock implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NodeLock.class);
    static final Path PATH = ControlPlaneBinaries.cacheRoot().resolve("node").resolve("lock");
    /** A whole test module on the node takes minutes; a run waiting longer than this is better told why. */
    static final Duration WAIT = Duration.ofMinutes(30);

    private final FileChannel channel;
    private final FileLock lock;

    private NodeLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    static NodeLock acquire() {
        try {
            Files.createDirectories(PATH.getParent());
            FileChannel channel = FileChannel.open(PATH, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ);
            long deadline = System.nanoTime() + WAIT.toNanos();
            boolean told = false;
            while (true) {
                FileLock lock = tryLock(channel);
                if (lock != null) {
                    channel.truncate(0);
                    channel.write(ByteBuffer.wrap(("pid " + ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.UTF_8)), 0);
                    return new NodeLock(channel, lock);
                }
                String owner = Files.readString(PATH).strip();
                if (System.nanoTime() > deadline) {
                    channel.close();
                    throw new IllegalStateException("another run (" + owner + ") has held the real node for " + WAIT.toMinutes()
                            + " minutes; stop it or wait until it ends (lock " + PATH + ")");
                }
                if (!told) {
                    log.info("waiting for the real node, which another run ({}) holds (lock {})", owner, PATH);
                    told = true;
                }
                Thread.sleep(500); // the kernel offers no timed wait on a file lock
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot lock " + PATH + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the real node", e);
        }
    }

    private static FileLock tryLock(FileChannel channel) throws IOException {
        try {
            return channel.tryLock();
        } catch (OverlappingFileLockException e) {
            return null; // this JVM holds it already (a second node in one JVM waits like any other run)
        }
    }

    @Override
    public void close() {
        try {
            lock.release();
            channel.close();
        } catch (IOException e) {
            log.debug("releasing {}: {}", PATH, e.toString()); // the lock goes with the channel anyway
        }
    }
}
