package dev.porthole.testcluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcessLedgerTest {
    @TempDir
    Path dir;
    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void stop() {
        started.forEach(Process::destroyForcibly);
    }

    @Test
    @DisplayName("ends what a dead run recorded and forgets that run; leaves an unrecorded process alone")
    void reapsOnlyWhatADeadRunRecorded() throws Exception {
        // given a run that is gone (no process 999999999) that recorded one process still running
        Process left = sleeper();
        Process stranger = sleeper();
        Files.writeString(dir.resolve("999999999-1.run"), line(left.toHandle()));
        ProcessLedger ledger = new ProcessLedger(dir);

        // when
        int ended = ledger.reapDeadRuns();

        // then
        assertThat(ended).isEqualTo(1);
        assertThat(left.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(stranger.isAlive()).as("a process nobody recorded, such as a user's kubectl").isTrue();
        assertThat(dir.resolve("999999999-1.run")).doesNotExist();
    }

    @Test
    @DisplayName("leaves the processes of a live run alone, even one this JVM recorded")
    void leavesLiveRunsAlone() throws Exception {
        // given
        ProcessLedger ledger = new ProcessLedger(dir);
        Process mine = sleeper();
        ledger.record(mine.toHandle());

        // when
        int ended = ledger.reapDeadRuns();

        // then
        assertThat(ended).isZero();
        assertThat(mine.isAlive()).isTrue();
        try (var runs = Files.list(dir)) {
            assertThat(runs.toList()).singleElement().satisfies(run -> {
                assertThat(run.getFileName().toString()).startsWith(ProcessHandle.current().pid() + "-");
                assertThat(Files.readString(run)).startsWith(mine.pid() + " ");
            });
        }
    }

    @Test
    @DisplayName("a recorded pid that now names another process (started at another time) is not ended")
    void reusedPidIsSafe() throws Exception {
        // given a dead run's line with a live pid but a different start time
        Process reused = sleeper();
        long otherStart = reused.toHandle().info().startInstant().orElseThrow().toEpochMilli() - 60_000;
        Files.writeString(dir.resolve("999999999-1.run"), reused.pid() + " " + otherStart + " /usr/bin/sleep\n");

        // when
        int ended = new ProcessLedger(dir).reapDeadRuns();

        // then
        assertThat(ended).isZero();
        assertThat(reused.isAlive()).isTrue();
        assertThat(dir.resolve("999999999-1.run")).doesNotExist();
    }

    private Process sleeper() throws IOException {
        Process p = new ProcessBuilder("sleep", "300").start();
        started.add(p);
        return p;
    }

    private static String line(ProcessHandle p) {
        return p.pid() + " " + p.info().startInstant().orElseThrow().toEpochMilli() + " " + p.info().command().orElse("?") + "\n";
    }
}
