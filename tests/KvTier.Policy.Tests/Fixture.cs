using KvTier.Core;
using KvTier.Policy;
using Microsoft.Extensions.Time.Testing;

namespace KvTier.Policy.Tests;

/// <summary>Builds a planner over a fake clock. llama-3.1-8b blocks weigh 2 MiB (16 tokens × 128 KiB).</summary>
internal sealed class Fixture
{
    public static readonly ModelGeometry Llama8b = ModelPreset.Get("llama-3.1-8b").Geometry;

    public static readonly FetchSource PeerA = FetchSource.Peer("a");

    public static readonly FetchSource PeerB = FetchSource.Peer("b");

    public Fixture(PrefillProfile profile, PolicyOptions? options = null, ModelGeometry? geometry = null, LinkModelOptions? links = null)
    {
        Links = new LinkCostModel(Time, links);
        Prefill = new PrefillCostModel(profile);
        Cost = new CostModel(geometry ?? Llama8b, Prefill, Links);
        Planner = new Planner(Cost, options);
    }

    public FakeTimeProvider Time { get; } = new();

    public LinkCostModel Links { get; }

    public PrefillCostModel Prefill { get; }

    public CostModel Cost { get; }

    public Planner Planner { get; }

    public static PrefillProfile Profile(double overheadMs, double linearMsPerToken, double attentionMsPerTokenPair) =>
        new("test-model", "test-device", "made up for a unit test", overheadMs, linearMsPerToken, attentionMsPerTokenPair);

    public static PrefillProfile H100 => PrefillProfile.Get("llama-3.1-8b", "h100-sxm");

    public static PlanRequest AllCached(int blocks, FetchSource source, bool overlap = false, int tailTokens = 0) =>
        new(blocks, [new CachedRun(source, blocks)], overlap, tailTokens);

    /// <summary>Feeds transfers of 2–64 MiB from a link of the given bandwidth and fixed cost.</summary>
    public void Teach(FetchSource source, double bandwidthBytesPerSecond, double fixedMs, int transfers = 40)
    {
        for (var i = 0; i < transfers; i++)
        {
            long bytes = (2 + (i % 32 * 2)) << 20;
            Links.ObserveFetch(source, bytes, TimeSpan.FromMilliseconds(fixedMs + (bytes / bandwidthBytesPerSecond * 1e3)));
        }
    }
}
