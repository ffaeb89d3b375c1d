using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace KvTier.Cluster.DataPlane;

/// <summary>What a node says about itself in a handshake, and the secret it proves (never sent).</summary>
internal sealed record PeerIdentity(string ClusterName, string SeedFingerprint, string NodeId, string? Secret);

/// <summary>A Hello frame's content.</summary>
internal sealed record PeerHello(ushort Version, bool HasSecret, byte[] Nonce, string ClusterName, string SeedFingerprint, string NodeId)
{
    private const ushort HasSecretFlag = 1;

    public static PeerHello For(PeerIdentity identity) => new(PeerProtocol.Version, identity.Secret is not null,
        RandomNumberGenerator.GetBytes(PeerProtocol.NonceBytes), identity.ClusterName, identity.SeedFingerprint, identity.NodeId);

    public int Size => 8 + PeerProtocol.NonceBytes + PeerProtocol.SizeOf(ClusterName) + PeerProtocol.SizeOf(SeedFingerprint)
        + PeerProtocol.SizeOf(NodeId);

    public void WriteTo(Span<byte> body)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(body, PeerProtocol.Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(body[4..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(body[6..], HasSecret ? HasSecretFlag : (ushort)0);
        Nonce.CopyTo(body[8..]);
        var offset = 8 + PeerProtocol.NonceBytes;
        offset += PeerProtocol.WriteString(body[offset..], ClusterName);
        offset += PeerProtocol.WriteString(body[offset..], SeedFingerprint);
        PeerProtocol.WriteString(body[offset..], NodeId);
    }

    /// <summary>Parses a Hello. Another protocol version is returned with only its version, for the refusal to name.</summary>
    public static PeerHello Read(ReadOnlySpan<byte> body)
    {
        if (body.Length < 8 || BinaryPrimitives.ReadUInt32LittleEndian(body) != PeerProtocol.Magic)
        {
            throw new PeerProtocolException("the first frame is not a KvTier peer Hello (bad magic): is this the peer data port?");
        }

        var version = BinaryPrimitives.ReadUInt16LittleEndian(body[4..]);
        if (version != PeerProtocol.Version)
        {
            return new PeerHello(version, false, [], "", "", "");
        }

        var flags = BinaryPrimitives.ReadUInt16LittleEndian(body[6..]);
        if (body.Length < 8 + PeerProtocol.NonceBytes)
        {
            throw new PeerProtocolException("the Hello is truncated");
        }

        var nonce = body.Slice(8, PeerProtocol.NonceBytes).ToArray();
        var offset = 8 + PeerProtocol.NonceBytes;
        var cluster = PeerProtocol.ReadString(body, ref offset, PeerProtocol.MaxNameBytes, "cluster name");
        var seed = PeerProtocol.ReadString(body, ref offset, PeerProtocol.MaxNameBytes, "seed fingerprint");
        var node = PeerProtocol.ReadString(body, ref offset, PeerProtocol.MaxNameBytes, "node id");
        return new PeerHello(version, (flags & HasSecretFlag) != 0, nonce, cluster, seed, node);
    }
}

/// <summary>Both sides of the handshake: identity checks, then (with a secret) mutual HMAC-SHA256 challenge-response.</summary>
internal static class PeerHandshake
{
    /// <summary>The setting operators give every node the same secret with (named in refusals).</summary>
    public const string SecretSetting = "--cluster-secret";

    private static readonly byte[] ClientLabel = "kvtier-peer-v1/client"u8.ToArray();
    private static readonly byte[] ServerLabel = "kvtier-peer-v1/server"u8.ToArray();

    /// <summary>Why <paramref name="local"/> refuses <paramref name="peer"/>; null when they match.</summary>
    public static (PeerRefusal Code, string Text)? Check(PeerIdentity local, PeerHello peer)
    {
        if (peer.Version != PeerProtocol.Version)
        {
            return (PeerRefusal.VersionMismatch,
                $"peer protocol version {peer.Version} differs from this node's {PeerProtocol.Version}: run the same KvTier release on every node");
        }

        if (!string.Equals(peer.ClusterName, local.ClusterName, StringComparison.Ordinal))
        {
            return (PeerRefusal.ClusterMismatch,
                $"cluster name '{peer.ClusterName}' of node '{peer.NodeId}' differs from this cluster's '{local.ClusterName}': start every node with the same --cluster");
        }

        if (!string.Equals(peer.SeedFingerprint, local.SeedFingerprint, StringComparison.OrdinalIgnoreCase))
        {
            return (PeerRefusal.SeedMismatch,
                $"hash seed fingerprint {peer.SeedFingerprint} of node '{peer.NodeId}' differs from this cluster's {local.SeedFingerprint}: start every node with the same --hash-seed");
        }

        if (local.Secret is not null && !peer.HasSecret)
        {
            return (PeerRefusal.SecretMissing,
                $"node '{peer.NodeId}' sent no cluster secret, but this cluster requires one: start every node with the same {SecretSetting}");
        }

        if (local.Secret is null && peer.HasSecret)
        {
            return (PeerRefusal.SecretUnexpected,
                $"node '{peer.NodeId}' uses a cluster secret, but this node has none: give every node the same {SecretSetting}, or none");
        }

        return null;
    }

    /// <summary>Text of a refusal for a failed secret proof.</summary>
    public static string SecretMismatchText(string nodeId) =>
        $"node '{nodeId}' failed the cluster-secret check: its secret differs from this cluster's; start every node with the same {SecretSetting}";

    /// <summary>
    /// Server side. Returns the client's Hello once accepted; null when refused (the Error frame has been sent and the
    /// connection drained) or when the client left.
    /// </summary>
    public static async Task<PeerHello?> AcceptAsync(PeerConnection connection, PeerIdentity local, TimeSpan timeout,
        Action<PeerRefusal, string> onRefused)
    {
        var header = await connection.ReadHeaderAsync(timeout).ConfigureAwait(false);
        if (header is null)
        {
            return null;
        }

        if (header.Value.Type != FrameType.Hello)
        {
            throw new PeerProtocolException($"expected a Hello frame first, got {header.Value.Type}");
        }

        var body = await connection.ReadBodyAsync(header.Value, PeerProtocol.MaxControlBody, timeout).ConfigureAwait(false);
        var peer = PeerHello.Read(body.Span);
        if (Check(local, peer) is { } refusal)
        {
            onRefused(refusal.Code, refusal.Text);
            await connection.RefuseAsync(refusal.Code, refusal.Text, timeout).ConfigureAwait(false);
            return null;
        }

        var own = PeerHello.For(local);
        Write(connection, own);
        await connection.FlushAsync(timeout).ConfigureAwait(false);
        if (local.Secret is null)
        {
            return peer;
        }

        var proof = await ReadAuthAsync(connection, timeout).ConfigureAwait(false);
        if (proof is null)
        {
            return null;
        }

        if (!CryptographicOperations.FixedTimeEquals(proof, Proof(local.Secret, ClientLabel, peer.Nonce, own.Nonce)))
        {
            var text = SecretMismatchText(peer.NodeId);
            onRefused(PeerRefusal.SecretMismatch, text);
            await connection.RefuseAsync(PeerRefusal.SecretMismatch, text, timeout).ConfigureAwait(false);
            return null;
        }

        WriteAuth(connection, Proof(local.Secret, ServerLabel, own.Nonce, peer.Nonce));
        await connection.FlushAsync(timeout).ConfigureAwait(false);
        return peer;
    }

    /// <summary>Client side. Returns the server's Hello; throws <see cref="PeerHandshakeException"/> on a refusal either way.</summary>
    public static async Task<PeerHello> ConnectAsync(PeerConnection connection, PeerIdentity local, TimeSpan timeout)
    {
        var own = PeerHello.For(local);
        Write(connection, own);
        await connection.FlushAsync(timeout).ConfigureAwait(false);

        var header = await ReadReplyAsync(connection, FrameType.Hello, timeout).ConfigureAwait(false);
        var body = await connection.ReadBodyAsync(header, PeerProtocol.MaxControlBody, timeout).ConfigureAwait(false);
        var peer = PeerHello.Read(body.Span);
        if (Check(local, peer) is { } refusal)
        {
            await connection.RefuseAsync(refusal.Code, refusal.Text, timeout).ConfigureAwait(false);
            throw new PeerHandshakeException(refusal.Code, $"refused peer {connection.Remote}: {refusal.Text}");
        }

        if (local.Secret is null)
        {
            return peer;
        }

        WriteAuth(connection, Proof(local.Secret, ClientLabel, own.Nonce, peer.Nonce));
        await connection.FlushAsync(timeout).ConfigureAwait(false);
        header = await ReadReplyAsync(connection, FrameType.Auth, timeout).ConfigureAwait(false);
        var proof = await ReadBodyOfAuthAsync(connection, header, timeout).ConfigureAwait(false);
        if (!CryptographicOperations.FixedTimeEquals(proof, Proof(local.Secret, ServerLabel, peer.Nonce, own.Nonce)))
        {
            var text = SecretMismatchText(peer.NodeId);
            await connection.RefuseAsync(PeerRefusal.SecretMismatch, text, timeout).ConfigureAwait(false);
            throw new PeerHandshakeException(PeerRefusal.SecretMismatch, $"refused peer {connection.Remote}: {text}");
        }

        return peer;
    }

    private static byte[] Proof(string secret, byte[] label, ReadOnlySpan<byte> firstNonce, ReadOnlySpan<byte> secondNonce)
    {
        Span<byte> message = stackalloc byte[label.Length + (2 * PeerProtocol.NonceBytes)];
        label.CopyTo(message);
        firstNonce.CopyTo(message[label.Length..]);
        secondNonce.CopyTo(message[(label.Length + PeerProtocol.NonceBytes)..]);
        return HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), message);
    }

    private static void Write(PeerConnection connection, PeerHello hello)
    {
        var size = hello.Size;
        hello.WriteTo(connection.StartFrame(FrameType.Hello, size, 0));
        connection.CommitFrame(size);
    }

    private static void WriteAuth(PeerConnection connection, byte[] proof)
    {
        proof.CopyTo(connection.StartFrame(FrameType.Auth, proof.Length, 0));
        connection.CommitFrame(proof.Length);
    }

    // An Error frame in reply is the peer's refusal: raised with its text.
    private static async ValueTask<FrameHeader> ReadReplyAsync(PeerConnection connection, FrameType expected, TimeSpan timeout)
    {
        var header = await connection.ReadHeaderAsync(timeout).ConfigureAwait(false)
            ?? throw new PeerDataException($"{connection.Remote} closed the connection during the handshake");
        if (header.Type == FrameType.Error)
        {
            var (code, text) = await connection.ReadErrorAsync(header, timeout).ConfigureAwait(false);
            throw new PeerHandshakeException(code, $"peer {connection.Remote} refused this node: {text}");
        }

        return header.Type == expected
            ? header
            : throw new PeerProtocolException($"expected {expected} during the handshake, got {header.Type}");
    }

    private static async ValueTask<byte[]?> ReadAuthAsync(PeerConnection connection, TimeSpan timeout)
    {
        var header = await connection.ReadHeaderAsync(timeout).ConfigureAwait(false);
        if (header is null)
        {
            return null;
        }

        return header.Value.Type == FrameType.Auth
            ? await ReadBodyOfAuthAsync(connection, header.Value, timeout).ConfigureAwait(false)
            : throw new PeerProtocolException($"expected Auth during the handshake, got {header.Value.Type}");
    }

    private static async ValueTask<byte[]> ReadBodyOfAuthAsync(PeerConnection connection, FrameHeader header, TimeSpan timeout)
    {
        if (header.BodyLength != PeerProtocol.NonceBytes)
        {
            throw new PeerProtocolException($"an Auth frame must hold {PeerProtocol.NonceBytes} bytes, not {header.BodyLength}");
        }

        var body = await connection.ReadBodyAsync(header, PeerProtocol.NonceBytes, timeout).ConfigureAwait(false);
        return body.ToArray();
    }
}
