using KvTier.Core;
using KvTier.Transfer;

namespace KvTier.Bench;

/// <summary>Settings of <c>kvtier bench transfer</c>.</summary>
public sealed class TransferBenchOptions
{
    /// <summary>Block geometry (default llama-3.1-8b: 2 MiB blocks).</summary>
    public string Model { get; set; } = "llama-3.1-8b";

    /// <summary>Pool layout (default vLLM paged: 2 × layers chunks per block).</summary>
    public KvPoolLayout Layout { get; set; } = KvPoolLayout.VllmPaged;

    /// <summary>Blocks in the engine pool, all moved each pass (default 128 = 256 MiB).</summary>
    public int PoolBlocks { get; set; } = 128;

    /// <summary>Pinned staging (default 64 MiB).</summary>
    public long StagingBytes { get; set; } = 64L << 20;

    /// <summary>Measured passes; the median is reported (default 3).</summary>
    public int Passes { get; set; } = 3;

    /// <summary>Store budget; 0 picks max(1 GiB, 4 × the pool) so every onloaded block is still in DRAM.</summary>
    public long StoreBytes { get; set; }

    /// <summary>Untimed warm-up, at least two rounds (default 1 s: long enough for tiered JIT to settle).</summary>
    public TimeSpan WarmUp { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Preset of the reference prefill measured beside (default tiny).</summary>
    public string PrefillPreset { get; set; } = "tiny";

    /// <summary>Tokens of the measured prefill (default 1024).</summary>
    public int PrefillTokens { get; set; } = 1024;

    /// <summary>Geometry of <see cref="Model"/>.</summary>
    public ModelGeometry Geometry => ModelPreset.Get(Model).Geometry;

    /// <summary>Throws <see cref="ArgumentException"/> naming a bad setting.</summary>
    public void Validate()
    {
        if (PoolBlocks < 4 || Passes < 1 || PrefillTokens < 16)
        {
            throw new ArgumentException($"--blocks {PoolBlocks} (≥ 4), --passes {Passes} (≥ 1) and --prefill-tokens {PrefillTokens} (≥ 16) are out of range.");
        }

        _ = ModelPreset.Get(PrefillPreset);
        if (StagingBytes < 2 * Geometry.BytesPerBlock)
        {
            throw new ArgumentException($"--staging {ByteSize.Format(StagingBytes)} must hold two blocks of {ByteSize.Format(Geometry.BytesPerBlock)} (double buffering).");
        }
    }
}
