package dev.porthole.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import dev.porthole.protocol.DataPreamble;
import dev.porthole.protocol.ForwardRef;
import dev.porthole.protocol.pki.ClientIdentity;
import dev.porthole.protocol.pki.IdentityNames;
import dev.porthole.protocol.pki.KeyMaterial;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@link SessionPass} and the {@link PassSeal} that seals it: what one replica grants and any replica opens. */
class SessionPassTest {

    private static final KeyMaterial RELAY_KEY = AdmissionTestSupport.RELAY_KEY;
    private static final KeyMaterial OTHER_KEY = AdmissionTestSupport.CA.issueServerCertificate("another-relay",
            List.of("localhost"), Duration.ofDays(1));
    private static final PassSeal SEAL = PassSeal.derivedFrom(RELAY_KEY);
    private static final Instant VALID_UNTIL = Instant.now().truncatedTo(ChronoUnit.MILLIS).plusSeconds(10);

    @ParameterizedTest(name = "{0}")
    @MethodSource("passes")
    @DisplayName("a sealed pass opens to exactly what was sealed, on every replica that derives its seal from the same"
            + " serving key")
    void sealedPassRoundTrips(String what, SessionPass pass) throws Exception {
        // given: another replica's seal, derived from the same key
        PassSeal otherReplica = PassSeal.derivedFrom(RELAY_KEY);

        // when
        byte[] sealed = SEAL.seal(pass);

        // then
        assertSamePass(SEAL.open(sealed), pass);
        assertSamePass(otherReplica.open(sealed), pass);
        assertThat(otherReplica.seal(pass)).as("the seal is a function of key and pass").isEqualTo(sealed);
        assertThat(SessionPass.fits(pass.encode().length)).isTrue();
        assertThat(sealed.length).isLessThanOrEqualTo(DataPreamble.MAX_CREDENTIAL);
    }

    static Stream<Arguments> passes() throws Exception {
        return Stream.of(
                arguments("alice over IPv4, in-cluster listener", pass("session-1-abc", identity("alice",
                        List.of("sre", "dev")), InetAddress.getByName("192.0.2.10"), false)),
                arguments("no groups, IPv6, external listener", pass("session-2-def", identity("bob", List.of()),
                        InetAddress.getByName("2001:db8::7"), true)),
                arguments("names outside ASCII, an empty group", pass("session-3-ghi", identity("José Ünal",
                        List.of("", "équipe-β", "運用")), InetAddress.getByName("198.51.100.7"), false)),
                arguments("extreme numbers", new SessionPass("s", identity("x", List.of("g")), digest(0xff),
                        InetAddress.getByName("0.0.0.0"), true, Long.MIN_VALUE, Long.MAX_VALUE, Integer.MAX_VALUE,
                        Instant.ofEpochMilli(0))));
    }

    @Test
    @DisplayName("a pass with any single bit changed does not open, whichever bit of body or seal it is")
    void everyBitIsSealed() {
        // given
        byte[] sealed = SEAL.seal(alicePass());

        // when / then
        for (int i = 0; i < sealed.length; i++) {
            for (int bit = 0; bit < 8; bit++) {
                byte[] tampered = sealed.clone();
                tampered[i] ^= (byte) (1 << bit);
                int at = i;
                int flipped = bit;
                assertThatThrownBy(() -> SEAL.open(tampered)).as("byte %d, bit %d", at, flipped)
                        .isInstanceOf(PassSeal.PassException.class)
                        .hasMessageContaining("not sealed by this relay");
            }
        }
    }

    @Test
    @DisplayName("a pass sealed with another relay's key does not open, nor does one of ours there")
    void anotherKeyDoesNotOpen() {
        // given
        PassSeal other = PassSeal.derivedFrom(OTHER_KEY);
        SessionPass pass = alicePass();

        // when / then
        assertThatThrownBy(() -> SEAL.open(other.seal(pass))).isInstanceOf(PassSeal.PassException.class)
                .hasMessage("session pass not sealed by this relay (forged, altered, or from a relay with another key)");
        assertThatThrownBy(() -> other.open(SEAL.seal(pass))).isInstanceOf(PassSeal.PassException.class);
        assertThat(other.seal(pass)).isNotEqualTo(SEAL.seal(pass));
    }

    @Test
    @DisplayName("a pass cut short at any length, or with bytes added, does not open")
    void truncatedOrExtendedDoesNotOpen() {
        // given
        byte[] sealed = SEAL.seal(alicePass());

        // when / then
        for (int length = 0; length < sealed.length; length++) {
            byte[] cut = Arrays.copyOf(sealed, length);
            assertThatThrownBy(() -> SEAL.open(cut)).as("%d bytes", length).isInstanceOf(PassSeal.PassException.class)
                    .hasMessageContaining(length <= PassSeal.MAC_LENGTH ? "too short" : "not sealed by this relay");
        }
        byte[] extended = Arrays.copyOf(sealed, sealed.length + 1);
        assertThatThrownBy(() -> SEAL.open(extended)).isInstanceOf(PassSeal.PassException.class);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedBodies")
    @DisplayName("a body sealed with the relay's key that is no pass of this version is refused as malformed, never"
            + " half read")
    void malformedSealedBodyIsRefused(String what, UnaryOperator<byte[]> malform) {
        // given: the seal's own MAC (as computed here, checked on a genuine pass) over a malformed body, as a relay of
        // another version, or a bug, could seal it
        byte[] genuine = SEAL.seal(alicePass());
        assertThat(Arrays.copyOfRange(genuine, genuine.length - PassSeal.MAC_LENGTH, genuine.length))
                .isEqualTo(mac(alicePass().encode()));
        byte[] body = malform.apply(alicePass().encode());
        byte[] sealed = Arrays.copyOf(body, body.length + PassSeal.MAC_LENGTH);
        System.arraycopy(mac(body), 0, sealed, body.length, PassSeal.MAC_LENGTH);

        // when / then
        assertThatThrownBy(() -> SEAL.open(sealed)).isInstanceOf(PassSeal.PassException.class)
                .hasMessageStartingWith("malformed session pass");
    }

    static Stream<Arguments> malformedBodies() {
        return Stream.of(
                arguments("version 2", (UnaryOperator<byte[]>) body -> {
                    byte[] other = body.clone();
                    other[0] = 2;
                    return other;
                }),
                arguments("a trailing byte", (UnaryOperator<byte[]>) body -> Arrays.copyOf(body, body.length + 1)),
                arguments("the last byte missing", (UnaryOperator<byte[]>) body -> Arrays.copyOf(body, body.length - 1)),
                arguments("only the version", (UnaryOperator<byte[]>) body -> Arrays.copyOf(body, 1)),
                arguments("an address of 5 bytes", (UnaryOperator<byte[]>) body -> encode(out -> {
                    out.writeByte(1);
                    out.writeUTF("session-1");
                    out.writeUTF("alice");
                    out.writeByte(0);
                    out.writeUTF("shop");
                    out.writeUTF("db");
                    out.writeUTF("uid-db");
                    out.writeLong(VALID_UNTIL.toEpochMilli());
                    out.write(new byte[32]);
                    out.writeByte(5);
                    out.write(new byte[5]);
                })),
                arguments("a forward that is no forward", (UnaryOperator<byte[]>) body -> encode(out -> {
                    out.writeByte(1);
                    out.writeUTF("session-1");
                    out.writeUTF("alice");
                    out.writeByte(0);
                    out.writeUTF("");
                    out.writeUTF("");
                    out.writeUTF("uid-db");
                    out.writeLong(VALID_UNTIL.toEpochMilli());
                    out.write(new byte[32]);
                    out.writeByte(4);
                    out.write(new byte[4]);
                    out.writeBoolean(false);
                    out.writeLong(1);
                    out.writeLong(2);
                    out.writeInt(1);
                    out.writeLong(VALID_UNTIL.toEpochMilli());
                })));
    }

    @Test
    @DisplayName("a pass must fit a data connection's preamble with its seal")
    void fitsIsTheCredentialLimit() {
        assertThat(SessionPass.fits(DataPreamble.MAX_CREDENTIAL - PassSeal.MAC_LENGTH)).isTrue();
        assertThat(SessionPass.fits(DataPreamble.MAX_CREDENTIAL - PassSeal.MAC_LENGTH + 1)).isFalse();
    }

    @Test
    @DisplayName("an identity with as many groups as a certificate may carry, that fits a pass, round-trips")
    void mostGroupsRoundTrip() throws Exception {
        // given: 256 one-letter groups, which a certificate may carry (IdentityNames.MAX_GROUPS)
        List<String> groups = Collections.nCopies(IdentityNames.MAX_GROUPS, "g");
        SessionPass pass = pass("session-1", identity("alice", groups), InetAddress.getByName("192.0.2.10"), false);
        assertThat(SessionPass.fits(pass.encode().length)).as("it fits, so SessionRequests grants it").isTrue();

        // when / then
        assertSamePass(SEAL.open(SEAL.seal(pass)), pass);
    }

    // fixtures

    private static SessionPass alicePass() {
        try {
            return pass("session-1-abc", identity("alice", List.of("sre")), InetAddress.getByName("192.0.2.10"), false);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static SessionPass pass(String id, ClientIdentity identity, InetAddress address, boolean external) {
        return new SessionPass(id, identity, digest(7), address, external, 0x1234_5678_9abc_def0L, 42, 3, VALID_UNTIL);
    }

    private static ClientIdentity identity(String user, List<String> groups) {
        return new ClientIdentity(user, groups, ForwardRef.parse("shop/db"), "uid-db",
                VALID_UNTIL.plus(Duration.ofHours(1)).truncatedTo(ChronoUnit.SECONDS));
    }

    private static byte[] digest(int seed) {
        byte[] digest = new byte[32];
        for (int i = 0; i < digest.length; i++) {
            digest[i] = (byte) (seed * 31 + i);
        }
        return digest;
    }

    private static void assertSamePass(SessionPass actual, SessionPass expected) {
        assertThat(actual.sessionId()).isEqualTo(expected.sessionId());
        assertThat(actual.identity()).isEqualTo(expected.identity());
        assertThat(actual.certificateSha256()).isEqualTo(expected.certificateSha256());
        assertThat(actual.clientAddress()).isEqualTo(expected.clientAddress());
        assertThat(actual.external()).isEqualTo(expected.external());
        assertThat(actual.issuer()).isEqualTo(expected.issuer());
        assertThat(actual.controlId()).isEqualTo(expected.controlId());
        assertThat(actual.requestId()).isEqualTo(expected.requestId());
        assertThat(actual.validUntil()).isEqualTo(expected.validUntil());
    }

    /**
     * The MAC the relay's seal puts on {@code body}, computed here as {@link PassSeal} documents its key: HMAC-SHA256
     * keyed by the serving key's encoding, over the label; then HMAC-SHA256 of the body with that key.
     */
    private static byte[] mac(byte[] body) {
        try {
            Mac derive = Mac.getInstance("HmacSHA256");
            derive.init(new SecretKeySpec(RELAY_KEY.privateKey().getEncoded(), "HmacSHA256"));
            byte[] key = derive.doFinal("porthole session pass v2".getBytes(StandardCharsets.US_ASCII));
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(body);
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    @FunctionalInterface
    private interface Writer {
        void write(DataOutputStream out) throws IOException;
    }

    private static byte[] encode(Writer writer) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            writer.write(out);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return bytes.toByteArray();
    }
}
