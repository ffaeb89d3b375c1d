using System.Formats.Cbor;
using System.Security.Cryptography;

namespace KvTier.Core;

/// <summary>
/// vLLM's <c>sha256_cbor</c> prefix-cache hash chain, so that an engine's own block hashes and KV events
/// map one-to-one onto KvTier keys:
/// root = SHA-256(CBOR(seed string)); key(i) = SHA-256(CBOR([parent, [tokens...], extra])), where extra is
/// null or an array of text strings (LoRA name on every block, then the cache salt on the first block only).
/// CBOR is canonical (RFC 8949 §4.2: shortest integer forms, definite lengths), as cbor2's canonical mode writes.
/// </summary>
public sealed class BlockHasher
{
    private readonly BlockKey _root;

    /// <summary>Creates a hasher for one cluster's seed and block size.</summary>
    /// <param name="seed">The cluster's hash seed (vLLM's PYTHONHASHSEED), as a string.</param>
    /// <param name="blockTokens">Tokens per full block (vLLM's block_size).</param>
    public BlockHasher(string seed, int blockTokens = 16)
    {
        ArgumentNullException.ThrowIfNull(seed);
        if (blockTokens <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(blockTokens), blockTokens,
                "block tokens must be positive (vLLM's default is 16).");
        }

        Seed = seed;
        BlockTokens = blockTokens;
        _root = ComputeRoot(seed);
    }

    /// <summary>The hash seed this hasher was made with.</summary>
    public string Seed { get; }

    /// <summary>Tokens per full block.</summary>
    public int BlockTokens { get; }

    /// <summary>The chain's root (vLLM's NONE_HASH).</summary>
    public BlockKey Root => _root;

    /// <summary>
    /// A short fingerprint of the seed, exchanged by nodes before they join: clusters whose seeds differ
    /// would compute different keys for the same tokens and silently never hit.
    /// </summary>
    public string SeedFingerprint => SeedFingerprintOf(_root);

    /// <summary>The fingerprint of a seed, without building a hasher.</summary>
    public static string SeedFingerprintOf(string seed) => SeedFingerprintOf(ComputeRoot(seed));

    private static string SeedFingerprintOf(BlockKey root) => root.EventId.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Number of full blocks in <paramref name="tokenCount"/> tokens (a partial tail has no key).</summary>
    public int FullBlocks(int tokenCount) => tokenCount / BlockTokens;

    /// <summary>Keys of every full block of <paramref name="tokens"/>.</summary>
    public BlockKey[] HashChain(ReadOnlySpan<int> tokens, string? lora = null, string? salt = null)
    {
        var keys = new BlockKey[FullBlocks(tokens.Length)];
        HashChain(tokens, keys, lora, salt);
        return keys;
    }

    /// <summary>Writes the keys of the full blocks of <paramref name="tokens"/> into <paramref name="keys"/>.</summary>
    /// <returns>The number of keys written.</returns>
    public int HashChain(ReadOnlySpan<int> tokens, Span<BlockKey> keys, string? lora = null, string? salt = null)
    {
        var blocks = FullBlocks(tokens.Length);
        if (keys.Length < blocks)
        {
            throw new ArgumentException($"room for {keys.Length} keys, {blocks} full blocks to hash", nameof(keys));
        }

        var writer = new CborWriter(CborConformanceMode.Canonical, convertIndefiniteLengthEncodings: false);
        var parent = _root;
        for (var i = 0; i < blocks; i++)
        {
            writer.Reset();
            WriteBlock(writer, parent, tokens.Slice(i * BlockTokens, BlockTokens), lora, i == 0 ? salt : null);
            parent = Digest(writer);
            keys[i] = parent;
        }

        return blocks;
    }

    /// <summary>The canonical CBOR that is hashed for one block (exposed for tests and tools).</summary>
    public static byte[] EncodeBlock(BlockKey parent, ReadOnlySpan<int> tokens, string? lora, string? salt)
    {
        var writer = new CborWriter(CborConformanceMode.Canonical, convertIndefiniteLengthEncodings: false);
        WriteBlock(writer, parent, tokens, lora, salt);
        return writer.Encode();
    }

    /// <summary>The canonical CBOR of the seed string (hashed to give the root).</summary>
    public static byte[] EncodeSeed(string seed)
    {
        var writer = new CborWriter(CborConformanceMode.Canonical, convertIndefiniteLengthEncodings: false);
        writer.WriteTextString(seed);
        return writer.Encode();
    }

    private static BlockKey ComputeRoot(string seed)
    {
        Span<byte> digest = stackalloc byte[BlockKey.Size];
        SHA256.HashData(EncodeSeed(seed), digest);
        return new BlockKey(digest);
    }

    private static void WriteBlock(CborWriter writer, BlockKey parent, ReadOnlySpan<int> tokens, string? lora, string? salt)
    {
        // As vLLM: an empty salt or LoRA name is no extra key at all.
        lora = string.IsNullOrEmpty(lora) ? null : lora;
        salt = string.IsNullOrEmpty(salt) ? null : salt;
        writer.WriteStartArray(3);
        writer.WriteByteString(parent.AsSpan());
        writer.WriteStartArray(tokens.Length);
        foreach (var token in tokens)
        {
            if (token < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(tokens), token, "token ids are unsigned; negative ids cannot be hashed.");
            }

            writer.WriteUInt32((uint)token);
        }

        writer.WriteEndArray();
        var extras = (lora is null ? 0 : 1) + (salt is null ? 0 : 1);
        if (extras == 0)
        {
            writer.WriteNull();
        }
        else
        {
            writer.WriteStartArray(extras);
            if (lora is not null)
            {
                writer.WriteTextString(lora);
            }

            if (salt is not null)
            {
                writer.WriteTextString(salt);
            }

            writer.WriteEndArray();
        }

        writer.WriteEndArray();
    }

    private static BlockKey Digest(CborWriter writer)
    {
        // One block of 16 tokens encodes to under 130 bytes: stay on the stack unless blocks are huge.
        var size = writer.BytesWritten;
        byte[]? rented = size > 4096 ? System.Buffers.ArrayPool<byte>.Shared.Rent(size) : null;
        Span<byte> buffer = rented ?? stackalloc byte[4096];
        var length = writer.Encode(buffer);
        Span<byte> digest = stackalloc byte[BlockKey.Size];
        SHA256.HashData(buffer[..length], digest);
        if (rented is not null)
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }

        return new BlockKey(digest);
    }
}
