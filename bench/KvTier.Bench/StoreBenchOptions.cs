using KvTier.Core;

namespace KvTier.Bench;

/// <summary>Settings of <c>kvtier bench store</c>.</summary>
public sealed class StoreBenchOptions
{
    /// <summary>Store memory budget (default 2 GiB, preallocated before measuring).</summary>
    public long MemoryBytes { get; set; } = 2L << 30;

    /// <summary>The model whose block size is measured (default llama-3.1-8b: 2 MiB per 16-token block).</summary>
    public string Model { get; set; } = "llama-3.1-8b";

    /// <summary>Keys in the looked-up chain (default 8192 = 128K tokens of 16).</summary>
    public int ChainKeys { get; set; } = 8192;

    /// <summary>Measured passes; the report gives the median (default 3).</summary>
    public int Passes { get; set; } = 3;

    /// <summary>Lookups timed for the percentiles (default 300).</summary>
    public int Lookups { get; set; } = 300;

    /// <summary>The block geometry of <see cref="Model"/>.</summary>
    public ModelGeometry Geometry => ModelPreset.Get(Model).Geometry;

    /// <summary>Throws <see cref="ArgumentException"/> naming a bad setting.</summary>
    public void Validate()
    {
        if (Passes < 1 || Lookups < 1 || ChainKeys < 1)
        {
            throw new ArgumentException($"--passes {Passes}, --lookups {Lookups} and --chain {ChainKeys} must all be at least 1.");
        }

        if (MemoryBytes < 16 * Geometry.BytesPerBlock)
        {
            throw new ArgumentException(
                $"--memory {ByteSize.Format(MemoryBytes)} holds fewer than 16 blocks of {ByteSize.Format(Geometry.BytesPerBlock)}: raise it.");
        }
    }
}
