using HdrHistogram;

namespace KvTier.Bench;

/// <summary>What one policy did over one workload: TTFT distribution, tokens fetched, bytes read, cost.</summary>
internal sealed class PolicyTally
{
    // Microseconds up to an hour, 3 significant digits.
    private readonly LongHistogram _ttftUs = new(3_600_000_000L, 3);
    private readonly List<double> _ttftMs = [];

    public long Requests { get; private set; }

    public long PromptTokens { get; private set; }

    public long FetchedTokens { get; private set; }

    public long WrittenTokens { get; private set; }

    public double TtftSumMs { get; private set; }

    /// <summary>Every TTFT, in request order (for the CDF plot).</summary>
    public IReadOnlyList<double> TtftMs => _ttftMs;

    /// <summary>GPU milliseconds spent prefilling (the profile's time for the tokens this policy computed).</summary>
    public double PrefillGpuMs { get; private set; }

    public void Add(double ttftMs, int promptTokens, int fetchedTokens, int writtenTokens, double prefillGpuMs)
    {
        PrefillGpuMs += prefillGpuMs;
        _ttftUs.RecordValue(Math.Max(1, (long)Math.Round(ttftMs * 1000)));
        _ttftMs.Add(ttftMs);
        Requests++;
        TtftSumMs += ttftMs;
        PromptTokens += promptTokens;
        FetchedTokens += fetchedTokens;
        WrittenTokens += writtenTokens;
    }

    public PolicyResult ToResult() => new()
    {
        Requests = Requests,
        TtftMeanMs = Requests == 0 ? 0 : TtftSumMs / Requests,
        TtftP50Ms = Requests == 0 ? 0 : _ttftUs.GetValueAtPercentile(50) / 1000.0,
        TtftP99Ms = Requests == 0 ? 0 : _ttftUs.GetValueAtPercentile(99) / 1000.0,
        HitRate = PromptTokens == 0 ? 0 : (double)FetchedTokens / PromptTokens,
        PrefillTokensSaved = FetchedTokens,
        PrefillGpuSeconds = PrefillGpuMs / 1000,
        // Published prompt-cache prices: a cache read costs 0.1 × and a cache write 1.25 × the base input price.
        CostRelative = PromptTokens == 0 ? 0 : ((PromptTokens - FetchedTokens) + (0.1 * FetchedTokens) + (0.25 * WrittenTokens)) / PromptTokens,
    };
}
