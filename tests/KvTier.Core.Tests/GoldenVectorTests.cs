using KvTier.Core;

namespace KvTier.Core.Tests;

/// <summary>One key pinned against an independent implementation (python3 hashlib + hand-built CBOR).</summary>
public sealed class GoldenVectorTests
{
    // Seed "0", block size 16, tokens 0..15, no LoRA, no salt. Computed with:
    // python3 -c "import hashlib as h; r=h.sha256(b'\x61\x30').digest(); print(h.sha256(bytes([0x83,0x58,0x20])+r+bytes([0x90])+bytes(range(16))+b'\xf6').hexdigest())"
    // (root = sha256(text "0" = 61 30); block = array(3), bytes(32) root, array(16) of 0..15 inline, null.)
    private const string Key0 = "d830de3d42c00f25a2949b5d12d98642664a44872c1614c5b0147556276afc9c";

    // Same python: print(h.sha256(b'\x61\x30').hexdigest())
    private const string Root = "4e1195df020de59e0d65a33a4279f1183e7ae4e5d980e309f8b55adff2e61c3e";

    [Fact]
    public void Seed_zero_root_matches_python()
    {
        Assert.Equal(Root, new BlockHasher("0").Root.ToString());
    }

    [Fact]
    public void Seed_zero_first_block_of_tokens_0_to_15_matches_python()
    {
        var keys = new BlockHasher("0", blockTokens: 16).HashChain(TestData.Tokens(16));

        Assert.Equal(Key0, Assert.Single(keys).ToString());
    }
}
