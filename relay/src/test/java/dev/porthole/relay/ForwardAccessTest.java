package dev.porthole.relay;

import dev.porthole.protocol.ForwardRef;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The access rule as a table: one row per way a forward may refuse, and the rows that pass. */
class ForwardAccessTest {
    private static final Instant NOW = Instant.parse("2026-12-02T10:00:00Z");
    private static final Instant LATER = NOW.plusSeconds(600);
    private static final ForwardAccess.Audience ALICE_OR_SRE = (user, groups) -> user.equals("alice") || groups.contains("sre");
    private static final ForwardAccess.Forward ACTIVE = new ForwardAccess.Forward("uid-1", LATER, false, Optional.empty(), ALICE_OR_SRE);
    private static final ForwardRef NAME = new ForwardRef("shop", "db");

    static Stream<Arguments> cases() {
        return Stream.of(
                row("alice with a certificate of this forward", ACTIVE, cert("alice", List.of(), "uid-1"), null),
                row("a member by group", ACTIVE, cert("bob", List.of("sre"), "uid-1"), null),
                row("alice asking for a certificate (no uid yet)", ACTIVE, ForwardAccess.Requester.beforeCertificate("alice", List.of()), null),
                row("a certificate of an earlier forward of the same name", ACTIVE, cert("alice", List.of(), "uid-0"),
                        "certificate was issued for an earlier forward named shop/db (uid uid-0); request a new one"),
                row("a certificate without a uid", ACTIVE, cert("alice", List.of(), null),
                        "certificate was issued for an earlier forward named shop/db (uid ); request a new one"),
                row("the forward is being deleted", new ForwardAccess.Forward("uid-1", LATER, true, Optional.empty(), ALICE_OR_SRE),
                        cert("alice", List.of(), "uid-1"), "forward shop/db is being deleted"),
                row("the forward expired (at exactly now)", new ForwardAccess.Forward("uid-1", NOW, false, Optional.empty(), ALICE_OR_SRE),
                        cert("alice", List.of(), "uid-1"), "forward shop/db expired at " + NOW),
                row("the forward is Rejected", new ForwardAccess.Forward("uid-1", LATER, false, Optional.of("Rejected"), ALICE_OR_SRE),
                        cert("alice", List.of(), "uid-1"), "forward shop/db is Rejected, not Active"),
                row("outside the audience", ACTIVE, cert("mallory", List.of("sre-ish"), "uid-1"),
                        "mallory is not in the audience of forward shop/db"),
                row("outside the audience, asking for a certificate", ACTIVE, ForwardAccess.Requester.beforeCertificate("mallory", List.of()),
                        "mallory is not in the audience of forward shop/db"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void rule(String what, ForwardAccess.Forward forward, ForwardAccess.Requester requester, String refusal) {
        assertThat(ForwardAccess.refusal(NAME, forward, requester, NOW)).isEqualTo(Optional.ofNullable(refusal));
    }

    private static ForwardAccess.Requester cert(String user, List<String> groups, String uid) {
        return ForwardAccess.Requester.withCertificate(user, groups, uid);
    }

    private static Arguments row(String what, ForwardAccess.Forward f, ForwardAccess.Requester r, String refusal) {
        return Arguments.of(what, f, r, refusal);
    }
}
