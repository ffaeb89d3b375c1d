using System.Text;
using KvTier.Core;

namespace KvTier.Cluster.DataPlane;

/// <summary>Settings of a <see cref="PeerDataServer"/>. Validated when the server starts.</summary>
public sealed class PeerDataOptions
{
    /// <summary>Cluster name; peers with another name are refused. Default <c>kvtier</c>.</summary>
    public string ClusterName { get; set; } = "kvtier";

    /// <summary>
    /// <see cref="BlockHasher.SeedFingerprintOf"/> of the cluster's hash seed; peers with another are refused (mismatched
    /// seeds give silent 0 % hit rates). Default: the fingerprint of seed "0", the CLI's default.
    /// </summary>
    public string SeedFingerprint { get; set; } = BlockHasher.SeedFingerprintOf("0");

    /// <summary>This node's id, named in handshakes and refusals. Default: the machine name.</summary>
    public string NodeId { get; set; } = Environment.MachineName;

    /// <summary>Shared cluster secret; when set, peers must prove it (HMAC-SHA256 challenge-response). Default: none.</summary>
    public string? ClusterSecret { get; set; }

    /// <summary>Largest block payload served or accepted (the store's own limit applies too). Default 64 MiB.</summary>
    public long MaxBlockBytes { get; set; } = 64L << 20;

    /// <summary>Time a new connection has to complete the handshake. Default 10 s.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Longest stall inside a request: waiting for the rest of a frame, or for the peer to take our bytes. Default 30 s.</summary>
    public TimeSpan IoTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A connection without a request for this long is closed (clients reopen on demand). Default 5 min.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Connections served at once; more are refused with a Busy error. Default 256.</summary>
    public int MaxConnections { get; set; } = 256;

    /// <summary>Receive-pipe buffer per connection. Default 1 MiB.</summary>
    public int PipeBufferBytes { get; set; } = 1 << 20;

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad setting and the fix.</summary>
    public void Validate()
    {
        PeerIdentityRules.Validate(ClusterName, SeedFingerprint, NodeId, ClusterSecret);
        PeerIdentityRules.ValidateBlockBytes(MaxBlockBytes);
        PeerIdentityRules.ValidatePositive(HandshakeTimeout, nameof(HandshakeTimeout));
        PeerIdentityRules.ValidatePositive(IoTimeout, nameof(IoTimeout));
        PeerIdentityRules.ValidatePositive(IdleTimeout, nameof(IdleTimeout));
        PeerIdentityRules.ValidatePipe(PipeBufferBytes);
        if (MaxConnections < 1)
        {
            throw new ArgumentException($"peer data MaxConnections {MaxConnections} must be at least 1.");
        }
    }

    internal PeerIdentity Identity => new(ClusterName, SeedFingerprint, NodeId, ClusterSecret);
}

/// <summary>Settings of a <see cref="PeerDataClient"/>. Validated when the client is created.</summary>
public sealed class PeerDataClientOptions
{
    /// <summary>Cluster name; must match the peer's. Default <c>kvtier</c>.</summary>
    public string ClusterName { get; set; } = "kvtier";

    /// <summary>Fingerprint of the hash seed; must match the peer's. Default: that of seed "0", the CLI's default.</summary>
    public string SeedFingerprint { get; set; } = BlockHasher.SeedFingerprintOf("0");

    /// <summary>This node's id, named in handshakes. Default: the machine name.</summary>
    public string NodeId { get; set; } = Environment.MachineName;

    /// <summary>Shared cluster secret, proven to the peer and required from it. Default: none.</summary>
    public string? ClusterSecret { get; set; }

    /// <summary>Connections to the peer kept open and used at once. Default 4.</summary>
    public int Connections { get; set; } = 4;

    /// <summary>Time to connect and complete the handshake. Default 5 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Longest stall of a request: the peer must accept our bytes and send its next frame within this time. A batch
    /// progresses block by block, so this bounds a hang, not the length of a large batch. Default 10 s.
    /// </summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A pooled connection idle longer than this is closed instead of reused. Default 60 s.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Largest block payload accepted from the peer; larger ones are reported as TooLarge. Default 64 MiB.</summary>
    public long MaxBlockBytes { get; set; } = 64L << 20;

    /// <summary>
    /// Receive-pipe buffer per connection. Default 64 KiB: reading a frame header pulls at most this much of the next
    /// payload through the pipe (one copy); the rest of a large payload is read from the socket straight into place.
    /// </summary>
    public int PipeBufferBytes { get; set; } = 64 << 10;

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad setting and the fix.</summary>
    public void Validate()
    {
        PeerIdentityRules.Validate(ClusterName, SeedFingerprint, NodeId, ClusterSecret);
        PeerIdentityRules.ValidateBlockBytes(MaxBlockBytes);
        PeerIdentityRules.ValidatePositive(ConnectTimeout, nameof(ConnectTimeout));
        PeerIdentityRules.ValidatePositive(RequestTimeout, nameof(RequestTimeout));
        PeerIdentityRules.ValidatePositive(IdleTimeout, nameof(IdleTimeout));
        PeerIdentityRules.ValidatePipe(PipeBufferBytes);
        if (Connections is < 1 or > 1024)
        {
            throw new ArgumentException($"peer data Connections {Connections} is out of range: use 1 to 1024 (default 4).");
        }
    }

    internal PeerIdentity Identity => new(ClusterName, SeedFingerprint, NodeId, ClusterSecret);
}

/// <summary>Checks shared by the server and client options.</summary>
internal static class PeerIdentityRules
{
    public static void Validate(string clusterName, string seedFingerprint, string nodeId, string? secret)
    {
        Name(clusterName, "cluster name", "--cluster");
        Name(seedFingerprint, "seed fingerprint", "BlockHasher.SeedFingerprintOf(--hash-seed)");
        Name(nodeId, "node id", "--node-id");
        if (secret is { Length: 0 })
        {
            throw new ArgumentException($"the cluster secret is empty: give a non-empty {PeerHandshake.SecretSetting}, or none.");
        }
    }

    public static void ValidateBlockBytes(long maxBlockBytes)
    {
        if (maxBlockBytes < 1 || maxBlockBytes > PinnedBufferPool.MaxLength - PeerProtocol.BlockPrefix - 4096)
        {
            throw new ArgumentException($"peer data max block {maxBlockBytes} is out of range: use 1B to 512MiB, as the store allows.");
        }
    }

    public static void ValidatePositive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero && value != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentException($"peer data {name} {value} must be positive (or Timeout.InfiniteTimeSpan).");
        }
    }

    public static void ValidatePipe(int bytes)
    {
        if (bytes is < 4096 or > 64 << 20)
        {
            throw new ArgumentException($"peer data PipeBufferBytes {bytes} is out of range: use 4KiB to 64MiB (default 1MiB on a server, 64KiB on a client).");
        }
    }

    private static void Name(string value, string what, string fix)
    {
        if (string.IsNullOrWhiteSpace(value) || Encoding.UTF8.GetByteCount(value) > PeerProtocol.MaxNameBytes)
        {
            throw new ArgumentException(
                $"the {what} '{value}' must be 1 to {PeerProtocol.MaxNameBytes} UTF-8 bytes: set it with {fix}.");
        }
    }
}
