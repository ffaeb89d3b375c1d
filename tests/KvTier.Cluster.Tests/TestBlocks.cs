using System.Net;
using System.Security.Cryptography;
using KvTier.Cluster.DataPlane;
using KvTier.Core;
using KvTier.Store;

namespace KvTier.Cluster.Tests;

/// <summary>Deterministic test blocks, small real stores, and a server/client pair on loopback port 0.</summary>
internal static class TestBlocks
{
    public const string Tenant = "default";

    public static readonly string Seed = BlockHasher.SeedFingerprintOf("0");

    public static BlockKey Key(int i, int seed = 0)
    {
        Span<byte> input = stackalloc byte[8];
        BitConverter.TryWriteBytes(input, i);
        BitConverter.TryWriteBytes(input[4..], seed);
        return new BlockKey(SHA256.HashData(input));
    }

    public static byte[] Payload(int i, int length, int seed = 0)
    {
        var bytes = new byte[length];
        new Random(HashCode.Combine(i, seed, length)).NextBytes(bytes);
        return bytes;
    }

    public static BlockStore Store(long memory = 32L << 20, long maxBlock = 2 << 20) =>
        new(new StoreOptions { MemoryBytes = memory, MaxBlockBytes = maxBlock });

    public static PeerDataOptions ServerOptions(string? secret = null) => new()
    {
        NodeId = "server",
        SeedFingerprint = Seed,
        ClusterSecret = secret,
        MaxBlockBytes = 4 << 20,
        HandshakeTimeout = TimeSpan.FromSeconds(10),
    };

    public static PeerDataClientOptions ClientOptions(string? secret = null) => new()
    {
        NodeId = "client",
        SeedFingerprint = Seed,
        ClusterSecret = secret,
        MaxBlockBytes = 4 << 20,
        RequestTimeout = TimeSpan.FromSeconds(20),
        ConnectTimeout = TimeSpan.FromSeconds(10),
    };

    public static PeerDataServer Server(IBlockStore store, PeerDataOptions? options = null) =>
        new(new IPEndPoint(IPAddress.Loopback, 0), store, options ?? ServerOptions());

    /// <summary>Stores blocks 0..count-1 with the given sizes; returns their keys and payloads.</summary>
    public static (BlockKey[] Keys, byte[][] Payloads) Fill(IBlockStore store, IReadOnlyList<int> sizes, int seed = 0)
    {
        var keys = new BlockKey[sizes.Count];
        var payloads = new byte[sizes.Count][];
        for (var i = 0; i < sizes.Count; i++)
        {
            keys[i] = Key(i, seed);
            payloads[i] = Payload(i, sizes[i], seed);
            Assert.Equal(BlockStatus.Ok, store.Put(Tenant, keys[i], payloads[i]));
        }

        return (keys, payloads);
    }

    /// <summary>A guard so a hanging call fails the test instead of the run; not a timing assertion.</summary>
    public static Task<T> Guard<T>(this Task<T> task) => task.WaitAsync(TimeSpan.FromSeconds(60));

    /// <summary>The same guard for calls without a result.</summary>
    public static Task Guard(this Task task) => task.WaitAsync(TimeSpan.FromSeconds(60));
}
