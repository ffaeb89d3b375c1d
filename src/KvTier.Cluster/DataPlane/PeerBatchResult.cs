using KvTier.Core;

namespace KvTier.Cluster.DataPlane;

/// <summary>
/// Receives one verified block of a GET batch. <paramref name="payload"/> is valid only until the returned task
/// completes: copy it (into staging, a store) before then.
/// </summary>
public delegate ValueTask PeerBlockHandler(int index, BlockHeader header, ReadOnlyMemory<byte> payload);

/// <summary>
/// Per-key outcome of a GET batch. A failure of the connection (refused, reset, timed out) is not thrown: the keys
/// not yet answered get <see cref="BlockStatus.Timeout"/> (fetch them elsewhere or recompute) and
/// <see cref="Failure"/> says what happened.
/// </summary>
public sealed class PeerBatchResult
{
    internal PeerBatchResult(BlockStatus[] statuses, PeerDataException? failure)
    {
        Statuses = statuses;
        Failure = failure;
        Found = statuses.Count(s => s == BlockStatus.Ok);
    }

    /// <summary>
    /// One status per requested key, in request order: Ok (verified and delivered), NotFound, Corrupt (failed
    /// verification, never delivered), TooLarge, or Timeout (not answered because the connection failed).
    /// </summary>
    public BlockStatus[] Statuses { get; }

    /// <summary>Keys delivered (Ok).</summary>
    public int Found { get; }

    /// <summary>Why the connection failed before every key was answered; null when every key was answered.</summary>
    public PeerDataException? Failure { get; }
}
