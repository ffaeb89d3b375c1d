using System.Numerics;
using KvTier.Core;
using KvTier.Policy;
using KvTier.Store;

namespace KvTier.Bench;

/// <summary>Settings of <c>kvtier bench crossover</c>. Every property states its default.</summary>
public sealed class CrossoverBenchOptions
{
    /// <summary>The device whose prefill this machine measures itself with the reference engine.</summary>
    public const string MeasuredDevice = "cpu-2core";

    /// <summary>Model preset: block geometry and prefill profile (default llama-3.1-8b).</summary>
    public string Model { get; set; } = "llama-3.1-8b";

    /// <summary>
    /// Device of the prefill profile (default h100-sxm). On <see cref="MeasuredDevice"/> the recompute is measured
    /// here with the reference engine up to <see cref="MaxMeasuredTokens"/>.
    /// </summary>
    public string Device { get; set; } = "h100-sxm";

    /// <summary>The emulated link between the fetching engine's node and the peer holding the blocks (default 25gbit).</summary>
    public LinkSpec Link { get; set; } = LinkSpec.Parse("25gbit");

    /// <summary>Shortest prefix swept, a power of two (default 64 tokens).</summary>
    public int MinTokens { get; set; } = 64;

    /// <summary>Longest prefix swept, a power of two (default 65536 tokens).</summary>
    public int MaxTokens { get; set; } = 65536;

    /// <summary>
    /// Longest prefix whose recompute the reference engine runs for real on <see cref="MeasuredDevice"/> (default
    /// 4096): its CPU prefill grows quadratically, so longer rows are projected from the profile.
    /// </summary>
    public int MaxMeasuredTokens { get; set; } = 4096;

    /// <summary>Timed runs per prefix length; the median is reported (default 3).</summary>
    public int Runs { get; set; } = 3;

    /// <summary>
    /// Bytes of distinct blocks the peer holds (default 256 MiB, fewer when the sweep needs fewer): longer prefixes
    /// cycle through the same keys, so a 64K-token llama-3.1-8b prefix (8 GiB) reads each block 32 times.
    /// </summary>
    public long SetBytes { get; set; } = 256L << 20;

    /// <summary>The peer's store budget, preallocated before timing (default 512 MiB); it must keep the whole set resident.</summary>
    public long StoreBytes { get; set; } = 512L << 20;

    /// <summary>Destination buffer the fetched blocks are copied into, reused round robin (default 64 MiB).</summary>
    public long DestinationBytes { get; set; } = 64L << 20;

    /// <summary>Untimed warm-up before the fetch sweep and before the recompute sweep (default 1 s).</summary>
    public TimeSpan WarmUp { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The model preset.</summary>
    public ModelPreset Preset => ModelPreset.Get(Model);

    /// <summary>Its KV geometry.</summary>
    public ModelGeometry Geometry => Preset.Geometry;

    /// <summary>The built-in prefill profile of <see cref="Model"/> on <see cref="Device"/>.</summary>
    public PrefillProfile Profile => PrefillProfile.Get(Model, Device);

    /// <summary>True when the recompute is measured here (device <see cref="MeasuredDevice"/>).</summary>
    public bool MeasuresRecompute => string.Equals(Device, MeasuredDevice, StringComparison.OrdinalIgnoreCase);

    /// <summary>The swept prefix lengths: powers of two from <see cref="MinTokens"/> to <see cref="MaxTokens"/>.</summary>
    public IReadOnlyList<int> Sweep
    {
        get
        {
            var tokens = new List<int>();
            for (long p = MinTokens; p <= MaxTokens; p *= 2)
            {
                tokens.Add((int)p);
            }

            return tokens;
        }
    }

    /// <summary>Blocks that hold <paramref name="tokens"/> tokens (a partial last block counts whole).</summary>
    public int BlocksFor(int tokens) => (tokens + Geometry.BlockTokens - 1) / Geometry.BlockTokens;

    /// <summary>Distinct blocks the peer holds: the set, or fewer when the longest prefix needs fewer.</summary>
    public int SetBlocks => (int)Math.Max(1, Math.Min(SetBytes / Geometry.BytesPerBlock, BlocksFor(MaxTokens)));

    /// <summary>Throws <see cref="ArgumentException"/> naming a bad setting and the fix.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Link);
        _ = Preset;
        _ = Profile;
        if (!IsPowerOfTwo(MinTokens) || !IsPowerOfTwo(MaxTokens) || MinTokens < 16 || MaxTokens > 1 << 20 || MinTokens > MaxTokens)
        {
            throw new ArgumentException(
                $"--min-tokens {MinTokens} and --max-tokens {MaxTokens} must be powers of two with 16 ≤ min ≤ max ≤ 1048576.");
        }

        if (Runs < 1 || MaxMeasuredTokens < 0)
        {
            throw new ArgumentException($"--runs {Runs} (≥ 1) and --max-measured-tokens {MaxMeasuredTokens} (≥ 0) are out of range.");
        }

        if (WarmUp < TimeSpan.Zero || DestinationBytes < Geometry.BytesPerBlock || SetBytes < Geometry.BytesPerBlock)
        {
            throw new ArgumentException(
                $"the warm-up must not be negative, and the block set ({ByteSize.Format(SetBytes)}) and destination ({ByteSize.Format(DestinationBytes)}) must hold a block of {ByteSize.Format(Geometry.BytesPerBlock)}.");
        }

        if ((long)SetBlocks * Geometry.BytesPerBlock > Array.MaxLength)
        {
            throw new ArgumentException($"a block set of {ByteSize.Format(SetBytes)} exceeds 2 GiB: lower it.");
        }

        // Every block of the set must stay in the peer's DRAM window, with a page of slack: a fetch must never miss.
        var layout = StoreLayout.For(Store);
        var resident = (layout.WindowPages - 1) * layout.RecordsPerPage(Geometry.BytesPerBlock);
        if (SetBlocks > resident)
        {
            throw new ArgumentException(
                $"the peer's store of {ByteSize.Format(StoreBytes)} keeps {resident} blocks of {ByteSize.Format(Geometry.BytesPerBlock)} resident, fewer than the set's {SetBlocks}: raise the store or lower the set.");
        }
    }

    /// <summary>The peer's store: a fixed set, read only, so no second-chance copies grow the log.</summary>
    internal StoreOptions Store => new() { MemoryBytes = StoreBytes, MaxBlockBytes = Geometry.BytesPerBlock, SecondChanceFraction = 0 };

    private static bool IsPowerOfTwo(int value) => value > 0 && BitOperations.IsPow2(value);
}
