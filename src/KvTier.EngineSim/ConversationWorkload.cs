namespace KvTier.EngineSim;

/// <summary>
/// The engine-sim's default workload: a few multi-turn conversations that share one system prompt, served round-robin,
/// so prefixes recur after the engine's small pool has evicted them (the case KvTier exists for).
/// </summary>
public static class ConversationWorkload
{
    /// <summary>Tokens of the shared system prompt.</summary>
    public const int SystemTokens = 96;

    /// <summary>Tokens each turn (user + assistant) appends.</summary>
    public const int TurnTokens = 48;

    /// <summary>The prompt of request <paramref name="index"/>: system prompt, then every turn of its conversation so far.</summary>
    public static int[] Prompt(int index, int conversations, int vocab, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfLessThan(conversations, 1);
        var conversation = index % conversations;
        var turns = index / conversations + 1;
        var prompt = new List<int>(SystemTokens + turns * TurnTokens);
        prompt.AddRange(ReferenceModel.SyntheticTokens(SystemTokens, vocab, seed));
        for (var t = 0; t < turns; t++)
        {
            prompt.AddRange(ReferenceModel.SyntheticTokens(TurnTokens, vocab, HashCode.Combine(seed, conversation, t)));
        }

        return [.. prompt];
    }
}
