package dev.porthole.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.protocol.EndReason;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** What a script sees when {@code porthole connect} ends: one code per cause a user would act on differently. */
class ExitCodeTest {
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
        "CLIENT_CLOSED, 0",
        "EXPIRED, 3",
        "REVOKED, 4",
        "AGENT_LOST, 5",
        "RELAY_SHUTDOWN, 5",
        "REJECTED, 6",
        "DENIED, 1",
        "PROTOCOL_ERROR, 1",
    })
    void exitCodeOfEachEnd(EndReason reason, int code) {
        assertThat(ConnectCommand.exitCode(reason)).isEqualTo(code);
    }
}
