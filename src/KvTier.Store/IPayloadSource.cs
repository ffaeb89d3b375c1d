namespace KvTier.Store;

/// <summary>
/// Produces a block's payload straight into the store's log record (for example a gather from an engine's paged KV
/// pool), so a put costs one copy instead of two. Called synchronously on the putting thread (once more if the store
/// retries the put).
/// </summary>
public interface IPayloadSource
{
    /// <summary>The payload's length in bytes.</summary>
    int Length { get; }

    /// <summary>
    /// Writes exactly <see cref="Length"/> bytes into <paramref name="destination"/>, a record the store holds in place
    /// meanwhile: must not throw, wait on I/O or call the store.
    /// </summary>
    void CopyTo(Span<byte> destination);
}
