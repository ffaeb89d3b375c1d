namespace KvTier.Policy;

/// <summary>
/// The classes <see cref="KvTierRetention"/> learns a reuse rate for, from what is known when a block is touched:
/// a block seen before is classed by how often (reuse rises steeply with it); a new block by how much of its
/// request hit and how many new blocks the request brings (a continuation that appends a little is a conversation
/// turn; one that appends a long document, or a long first prompt, is reused far less). Buckets are powers of two,
/// so the classes carry no scale of their own.
/// </summary>
internal static class RetentionClasses
{
    /// <summary>Blocks accessed 1, 2, 3, 4, and 5 or more times before.</summary>
    public const int SeenClasses = 5;

    /// <summary>Hit-length buckets: 0, 1, 2–3, 4–7, 8+ leading blocks.</summary>
    public const int HitBuckets = 5;

    /// <summary>New-block-count buckets: 1, 2–3, 4–7, …, 128+.</summary>
    public const int NewBuckets = 8;

    public const int Count = SeenClasses + (HitBuckets * NewBuckets);

    public static int Seen(int accesses) => Math.Min(accesses, SeenClasses) - 1;

    public static int New(int hitBlocks, int newBlocks) =>
        SeenClasses + (Math.Min(Log2Bucket(hitBlocks), HitBuckets - 1) * NewBuckets) + Math.Min(Log2Bucket(newBlocks) - 1, NewBuckets - 1);

    /// <summary>0 for 0, else 1 + floor(log2 x): 1 → 1, 2–3 → 2, 4–7 → 3.</summary>
    private static int Log2Bucket(int x) => x <= 0 ? 0 : 32 - int.LeadingZeroCount(x);
}
