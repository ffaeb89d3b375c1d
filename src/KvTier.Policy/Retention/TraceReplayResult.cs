namespace KvTier.Policy;

/// <summary>What a retention policy achieved over a trace (see <see cref="TraceReplay"/>).</summary>
public sealed class TraceReplayResult
{
    internal TraceReplayResult(string policy, int capacity, long promptTokens, long hitTokens, long promptBlocks, long hitBlocks, int[] hitBlocksPerRequest)
    {
        Policy = policy;
        Capacity = capacity;
        PromptTokens = promptTokens;
        HitTokens = hitTokens;
        PromptBlocks = promptBlocks;
        HitBlocks = hitBlocks;
        HitBlocksPerRequest = hitBlocksPerRequest;
    }

    /// <summary>The policy's <see cref="IBlockRetention.Name"/>.</summary>
    public string Policy { get; }

    /// <summary>The policy's capacity in blocks.</summary>
    public int Capacity { get; }

    /// <summary>Prompt tokens over the whole trace.</summary>
    public long PromptTokens { get; }

    /// <summary>Prompt tokens inside each request's leading hit.</summary>
    public long HitTokens { get; }

    /// <summary>Prompt blocks (hash ids) over the whole trace, partial last blocks included.</summary>
    public long PromptBlocks { get; }

    /// <summary>Blocks inside each request's leading hit.</summary>
    public long HitBlocks { get; }

    /// <summary>Hit tokens / prompt tokens: the share of prefill a cache of this policy saves.</summary>
    public double TokenHitRate => PromptTokens == 0 ? 0 : (double)HitTokens / PromptTokens;

    /// <summary>Hit blocks / prompt blocks.</summary>
    public double BlockHitRate => PromptBlocks == 0 ? 0 : (double)HitBlocks / PromptBlocks;

    /// <summary>For each request in trace order, how many leading blocks hit: the prefix a tier would fetch.</summary>
    public IReadOnlyList<int> HitBlocksPerRequest { get; }
}
