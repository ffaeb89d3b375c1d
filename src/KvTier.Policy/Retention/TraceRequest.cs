namespace KvTier.Policy;

/// <summary>One request of a prefix-block trace (Mooncake format).</summary>
/// <param name="TimestampMs">Arrival time in ms, relative to the first request.</param>
/// <param name="InputLength">Prompt tokens.</param>
/// <param name="OutputLength">Generated tokens.</param>
/// <param name="HashIds">One id per <see cref="ConversationTrace.BlockTokens"/>-token prompt block; equal ids are the same prefix block.</param>
public sealed record TraceRequest(long TimestampMs, int InputLength, int OutputLength, long[] HashIds)
{
    /// <summary>
    /// Blocks that hold a whole <see cref="ConversationTrace.BlockTokens"/> tokens: all of them, less the last when
    /// the prompt does not end on a block boundary (such a partial block has no stable key, as in vLLM).
    /// </summary>
    public int FullBlockCount => InputLength % ConversationTrace.BlockTokens == 0 ? HashIds.Length : HashIds.Length - 1;

    /// <summary>The prompt tokens block <paramref name="index"/> holds: a whole block, or the remainder for the last.</summary>
    public int BlockTokens(int index) =>
        index == HashIds.Length - 1 ? InputLength - (ConversationTrace.BlockTokens * index) : ConversationTrace.BlockTokens;
}
