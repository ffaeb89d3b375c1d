using System.Buffers.Binary;
using System.Security.Cryptography;
using KvTier.Core;

namespace KvTier.Core.Tests;

/// <summary>The key chain, recomputed independently with SHA256 over the exposed CBOR encodings.</summary>
public sealed class HashChainTests
{
    private static BlockKey Sha(byte[] data) => new(SHA256.HashData(data));

    [Fact]
    public void Root_is_sha256_of_the_cbor_seed()
    {
        var hasher = new BlockHasher("0");

        Assert.Equal(Sha([0x61, 0x30]), hasher.Root);
        Assert.Equal(Sha(BlockHasher.EncodeSeed("0")), hasher.Root);
    }

    [Fact]
    public void Lora_goes_in_every_block_and_salt_in_the_first_only()
    {
        var tokens = TestData.Tokens(32, first: 1000);
        var hasher = new BlockHasher("42");
        var root = Sha(BlockHasher.EncodeSeed("42"));

        var key0 = Sha(BlockHasher.EncodeBlock(root, tokens.AsSpan(0, 16), "adapter", "tenant-salt"));
        var key1 = Sha(BlockHasher.EncodeBlock(key0, tokens.AsSpan(16, 16), "adapter", null));

        Assert.Equal([key0, key1], hasher.HashChain(tokens, "adapter", "tenant-salt"));
    }

    [Fact]
    public void Salt_alone_goes_in_the_first_block_and_later_blocks_have_null_extra()
    {
        var tokens = TestData.Tokens(48);
        var hasher = new BlockHasher("0");

        var key0 = Sha(BlockHasher.EncodeBlock(hasher.Root, tokens.AsSpan(0, 16), null, "s"));
        var key1 = Sha(BlockHasher.EncodeBlock(key0, tokens.AsSpan(16, 16), null, null));
        var key2 = Sha(BlockHasher.EncodeBlock(key1, tokens.AsSpan(32, 16), null, null));

        Assert.Equal([key0, key1, key2], hasher.HashChain(tokens, salt: "s"));
    }

    [Fact]
    public void Second_block_hashes_exactly_the_hand_built_cbor()
    {
        var tokens = TestData.Tokens(32);
        var hasher = new BlockHasher("0");
        var keys = hasher.HashChain(tokens, "ad", "salt");

        // [key0, [16..31], ["ad"]]: no salt after the first block. Tokens 16..23 fit the initial byte,
        // 24..31 take the 0x18 one-byte form.
        byte[] block1 =
        [
            0x83, 0x58, 0x20, .. keys[0].AsSpan(), 0x90,
            0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
            0x18, 0x18, 0x18, 0x19, 0x18, 0x1a, 0x18, 0x1b, 0x18, 0x1c, 0x18, 0x1d, 0x18, 0x1e, 0x18, 0x1f,
            0x81, 0x62, 0x61, 0x64,
        ];

        Assert.Equal(Sha(block1), keys[1]);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(15, 0)]
    [InlineData(16, 1)]
    [InlineData(31, 1)]
    [InlineData(32, 2)]
    [InlineData(33, 2)]
    public void Partial_tail_block_has_no_key(int tokenCount, int keys)
    {
        var hasher = new BlockHasher("0");

        Assert.Equal(keys, hasher.FullBlocks(tokenCount));
        Assert.Equal(keys, hasher.HashChain(TestData.Tokens(tokenCount)).Length);
    }

    [Fact]
    public void Tail_tokens_do_not_change_the_full_block_keys()
    {
        var hasher = new BlockHasher("0");

        var keys32 = hasher.HashChain(TestData.Tokens(32));
        var keys33 = hasher.HashChain(TestData.Tokens(33));
        var keys48 = hasher.HashChain(TestData.Tokens(48));

        Assert.Equal(keys32, keys33);
        Assert.Equal(keys32, keys48[..2]);
    }

    [Fact]
    public void Same_seed_and_tokens_give_the_same_keys()
    {
        var tokens = TestData.Tokens(64, first: 7);

        var first = new BlockHasher("1234").HashChain(tokens, "l", "s");
        var second = new BlockHasher("1234").HashChain(tokens, "l", "s");

        Assert.Equal(first, second);
    }

    [Fact]
    public void Different_seeds_give_different_keys_and_fingerprints()
    {
        var tokens = TestData.Tokens(32);
        var a = new BlockHasher("0");
        var b = new BlockHasher("1");

        Assert.NotEqual(a.Root, b.Root);
        Assert.NotEqual(a.SeedFingerprint, b.SeedFingerprint);
        var keysA = a.HashChain(tokens);
        var keysB = b.HashChain(tokens);
        Assert.NotEqual(keysA[0], keysB[0]);
        Assert.NotEqual(keysA[1], keysB[1]);
    }

    [Fact]
    public void Seed_fingerprint_is_the_root_event_id_in_16_hex_digits()
    {
        var hasher = new BlockHasher("0");
        var root = SHA256.HashData(BlockHasher.EncodeSeed("0"));
        var expected = BinaryPrimitives.ReadUInt64BigEndian(root.AsSpan(24)).ToString("x16", System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal(expected, hasher.SeedFingerprint);
        Assert.Equal(expected, BlockHasher.SeedFingerprintOf("0"));
        Assert.Equal(16, hasher.SeedFingerprint.Length);
    }

    [Fact]
    public void Lora_and_salt_each_change_the_keys()
    {
        var tokens = TestData.Tokens(32);
        var hasher = new BlockHasher("0");
        var plain = hasher.HashChain(tokens);
        var lora = hasher.HashChain(tokens, lora: "adapter");
        var salt = hasher.HashChain(tokens, salt: "tenant");

        Assert.NotEqual(plain[0], lora[0]);
        Assert.NotEqual(plain[0], salt[0]);
        Assert.NotEqual(lora[0], salt[0]);
        Assert.NotEqual(plain[1], lora[1]);
        // The salt only enters block 0, but block 1 chains on it, so it differs too.
        Assert.NotEqual(plain[1], salt[1]);
    }

    [Fact]
    public void Extra_strings_are_untagged_so_a_lora_and_a_salt_of_the_same_text_share_block_0_only()
    {
        // As in vLLM: extra is a plain array of strings, so ["x"] is the same whether "x" is a LoRA or a salt.
        // The chains part at block 1, where the LoRA is repeated and the salt is not.
        var tokens = TestData.Tokens(32);
        var hasher = new BlockHasher("0");
        var lora = hasher.HashChain(tokens, lora: "x");
        var salt = hasher.HashChain(tokens, salt: "x");

        Assert.Equal(lora[0], salt[0]);
        Assert.NotEqual(lora[1], salt[1]);
    }

    [Fact]
    public void Event_id_is_the_last_8_digest_bytes_big_endian()
    {
        var hasher = new BlockHasher("0");
        var key = hasher.HashChain(TestData.Tokens(16))[0];
        var digest = SHA256.HashData(BlockHasher.EncodeBlock(hasher.Root, TestData.Tokens(16), null, null));

        Assert.Equal(BinaryPrimitives.ReadUInt64BigEndian(digest.AsSpan(24, 8)), key.EventId);
    }

    [Fact]
    public void Negative_token_in_a_full_block_throws()
    {
        var tokens = TestData.Tokens(16);
        tokens[3] = -1;

        Assert.Throws<ArgumentOutOfRangeException>(() => new BlockHasher("0").HashChain(tokens));
    }

    [Fact]
    public void Too_small_key_span_throws()
    {
        var hasher = new BlockHasher("0");
        var keys = new BlockKey[1];

        Assert.Throws<ArgumentException>(() => hasher.HashChain(TestData.Tokens(32), keys));
    }

    [Fact]
    public void Span_overload_writes_the_same_keys_and_returns_the_count()
    {
        var hasher = new BlockHasher("0");
        var keys = new BlockKey[4];

        var written = hasher.HashChain(TestData.Tokens(40), keys, "l", "s");

        Assert.Equal(2, written);
        Assert.Equal(hasher.HashChain(TestData.Tokens(40), "l", "s"), keys[..2]);
        Assert.Equal(default(BlockKey), keys[2]);
    }

    [Fact]
    public void Other_block_sizes_slice_the_tokens_accordingly()
    {
        var hasher = new BlockHasher("0", blockTokens: 4);
        var tokens = TestData.Tokens(9);

        var key0 = Sha(BlockHasher.EncodeBlock(hasher.Root, tokens.AsSpan(0, 4), null, null));
        var key1 = Sha(BlockHasher.EncodeBlock(key0, tokens.AsSpan(4, 4), null, null));

        Assert.Equal([key0, key1], hasher.HashChain(tokens));
    }

    [Fact]
    public void Blocks_too_big_for_the_stack_buffer_hash_the_same()
    {
        // 2048 tokens of 5 CBOR bytes each encode to over 10 KB, past the 4 KiB stack buffer.
        var hasher = new BlockHasher("0", blockTokens: 2048);
        var tokens = TestData.Tokens(4096, first: 100_000);

        var key0 = Sha(BlockHasher.EncodeBlock(hasher.Root, tokens.AsSpan(0, 2048), "l", "s"));
        var key1 = Sha(BlockHasher.EncodeBlock(key0, tokens.AsSpan(2048, 2048), "l", null));

        Assert.Equal([key0, key1], hasher.HashChain(tokens, "l", "s"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-16)]
    public void Non_positive_block_size_is_refused(int blockTokens)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new BlockHasher("0", blockTokens));
    }
}
