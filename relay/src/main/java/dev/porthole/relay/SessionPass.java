package dev.porthole.relay;

import dev.porthole.protocol.DataPreamble;
import dev.porthole.protocol.ForwardRef;
import dev.porthole.protocol.pki.ClientIdentity;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * What a relay replica vouches for when it grants a session on a client's control connection, so that whichever
 * replica the client's data connection reaches can open it: the session's id, the client's identity and certificate
 * digest (the agent accepts only that certificate), the address and listener kind the grant was made to, the control
 * connection that asked (so the replica holding it can tell the client how its session ends), and when the pass
 * stops being valid. Sealed by {@link PassSeal}; the client holds it as opaque bytes.
 */
record SessionPass(String sessionId, ClientIdentity identity, byte[] certificateSha256, InetAddress clientAddress,
                   boolean external, long issuer, long controlId, int requestId, Instant validUntil) {

    private static final int VERSION = 1;

    byte[] encode() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(VERSION);
            out.writeUTF(sessionId);
            out.writeUTF(identity.username());
            out.writeShort(identity.groups().size());
            for (String group : identity.groups()) {
                out.writeUTF(group);
            }
            out.writeUTF(identity.forward().namespace());
            out.writeUTF(identity.forward().name());
            out.writeUTF(identity.forwardUid());
            out.writeLong(identity.notAfter().toEpochMilli());
            out.write(certificateSha256);
            byte[] address = clientAddress.getAddress();
            out.writeByte(address.length);
            out.write(address);
            out.writeBoolean(external);
            out.writeLong(issuer);
            out.writeLong(controlId);
            out.writeInt(requestId);
            out.writeLong(validUntil.toEpochMilli());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return bytes.toByteArray();
    }

    /** Whether the sealed pass fits a data connection's preamble (an identity with very many groups may not). */
    static boolean fits(int encodedLength) {
        return encodedLength + PassSeal.MAC_LENGTH <= DataPreamble.MAX_CREDENTIAL;
    }

    static SessionPass decode(byte[] encoded) throws IOException {
        DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(encoded));
        int version = in.readUnsignedByte();
        if (version != VERSION) {
            throw new IOException("session pass version " + version);
        }
        String sessionId = in.readUTF();
        String username = in.readUTF();
        int groupCount = in.readUnsignedShort();
        List<String> groups = new ArrayList<>(groupCount);
        for (int i = 0; i < groupCount; i++) {
            groups.add(in.readUTF());
        }
        ForwardRef forward = new ForwardRef(in.readUTF(), in.readUTF());
        String forwardUid = in.readUTF();
        Instant notAfter = Instant.ofEpochMilli(in.readLong());
        byte[] digest = in.readNBytes(32);
        int addressLength = in.readUnsignedByte();
        if (digest.length != 32 || (addressLength != 4 && addressLength != 16)) {
            throw new IOException("malformed session pass");
        }
        InetAddress address = InetAddress.getByAddress(in.readNBytes(addressLength));
        boolean external = in.readBoolean();
        long issuer = in.readLong();
        long controlId = in.readLong();
        int requestId = in.readInt();
        Instant validUntil = Instant.ofEpochMilli(in.readLong());
        if (in.available() != 0) {
            throw new IOException("trailing bytes in a session pass");
        }
        return new SessionPass(sessionId, new ClientIdentity(username, groups, forward, forwardUid, notAfter), digest,
                address, external, issuer, controlId, requestId, validUntil);
    }
}
