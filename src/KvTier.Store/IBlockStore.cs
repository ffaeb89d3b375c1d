using KvTier.Core;

namespace KvTier.Store;

/// <summary>
/// A tenant-namespaced store of verified KV blocks. Hot-path methods return <see cref="BlockStatus"/>;
/// exceptions are for misuse (a bad argument, a disposed store).
/// </summary>
public interface IBlockStore : IDisposable
{
    /// <summary>The largest payload accepted, in bytes.</summary>
    long MaxBlockBytes { get; }

    /// <summary>
    /// Stores a block: the store writes the header (checksum, geometry, creation time, expiry) itself.
    /// Returns <see cref="BlockStatus.TooLarge"/> for a payload over <see cref="MaxBlockBytes"/>.
    /// </summary>
    BlockStatus Put(string tenant, in BlockKey key, ReadOnlySpan<byte> payload, ulong geometryFingerprint = 0, TimeSpan? ttl = null);

    /// <summary>
    /// Stores a block, verifying in the same pass that copies it that its bytes match <paramref name="expectedChecksum"/>
    /// (the sender's XxHash3): on a mismatch nothing is stored and <see cref="BlockStatus.Corrupt"/> is returned.
    /// </summary>
    BlockStatus Put(string tenant, in BlockKey key, ReadOnlySpan<byte> payload, ulong geometryFingerprint, TimeSpan? ttl, ulong? expectedChecksum);

    /// <summary>
    /// Stores a block whose payload <paramref name="source"/> writes straight into the log record; the store checksums
    /// the record once it is written. Otherwise as <see cref="Put(string, in BlockKey, ReadOnlySpan{byte}, ulong, TimeSpan?)"/>.
    /// </summary>
    BlockStatus PutFrom(string tenant, in BlockKey key, IPayloadSource source, ulong geometryFingerprint = 0, TimeSpan? ttl = null);

    /// <summary>
    /// Copies a block's verified payload into <paramref name="destination"/>. Anything but Ok means the destination
    /// holds no valid block (a corrupt record is counted and never returned).
    /// </summary>
    BlockStatus Get(string tenant, in BlockKey key, Span<byte> destination, out BlockInfo info);

    /// <summary>
    /// Hands a block's payload to <paramref name="lender"/> where it lies in DRAM, without copying it; a block on the SSD
    /// is read into a pooled buffer first. Meant for forwarding a block to a receiver that verifies it: the header is
    /// verified here, but the payload's checksum is not (<see cref="BlockInfo.PayloadChecksum"/> travels with it, and the
    /// receiver checks the bytes against it). Ok when <paramref name="lender"/> ran; it is not called otherwise.
    /// </summary>
    BlockStatus Lend<TState>(string tenant, in BlockKey key, ref TState state, BlockLender<TState> lender, out BlockInfo info)
        where TState : allows ref struct;

    /// <summary>Reads a block's header only (its size, for sizing a buffer, and where it lives).</summary>
    BlockStatus Peek(string tenant, in BlockKey key, out BlockInfo info);

    /// <summary>
    /// Counts the leading keys of <paramref name="chain"/> that are present (not expired), stopping at the first miss.
    /// When <paramref name="tiers"/> is not empty it receives the tier of each present key.
    /// </summary>
    int LookupPrefix(string tenant, ReadOnlySpan<BlockKey> chain, Span<StorageTier> tiers);

    /// <summary>Deletes a block; NotFound when there was none.</summary>
    BlockStatus Delete(string tenant, in BlockKey key);

    /// <summary>Refreshes a block's recency and sets its TTL (null: no expiry).</summary>
    BlockStatus Touch(string tenant, in BlockKey key, TimeSpan? ttl);

    /// <summary>
    /// The (tenant, key) of every live block, for repair after a member leaves. It reads the whole log: call it rarely.
    /// </summary>
    IReadOnlyList<(string Tenant, BlockKey Key)> ListBlocks();

    /// <summary>
    /// True once a block of <paramref name="tenant"/> was stored here (it may have left since): lets a caller skip a
    /// namespace this store never held without counting a miss.
    /// </summary>
    bool HasTenant(string tenant);

    /// <summary>
    /// Verifies the checksums of up to <paramref name="maxBytes"/> of blocks held in DRAM, going on from where the last
    /// call stopped and starting over at the oldest block after the newest. A damaged block (one a zero-copy peer send
    /// or an idle cache would otherwise keep) is counted as a corruption and dropped. Returns the bytes verified.
    /// </summary>
    long Scrub(long maxBytes);

    /// <summary>A consistent-enough snapshot of the counters.</summary>
    StoreStats GetStats();
}
