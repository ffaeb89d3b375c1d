using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Numerics;
using FASTER.core;
using KvTier.Core;
using KvTier.Policy;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KvTier.Store;

/// <summary>
/// The DRAM tier: a FASTER hybrid log of SpanByte records (tenant + block key → header + payload) within a memory
/// budget. The oldest blocks leave first, except those KvTier's retention (<see cref="RetentionJudge"/>, told of every
/// lookup, put and read) judges worth another trip: shortly before the head passes them they are copied to the tail.
/// A read of a block near the head copies it to the tail too (second chance), so hot blocks stay. With tenant quotas,
/// the blocks of a tenant within its quota are copied forward before the head passes them, so another tenant's burst cannot evict them. With an SSD directory the blocks leaving memory spill to
/// a file device until its budget is spent.
/// Thread-safe: FASTER sessions are pooled, one per concurrent caller.
/// </summary>
public sealed unsafe class BlockStore : IBlockStore
{
    private readonly FasterKV<SpanByte, SpanByte> _kv;
    private readonly IDevice _device;
    private readonly FileStream? _ssdLock;
    private readonly BlockFunctions _functions;
    private readonly StoreCounters _counters = new();
    private readonly ConcurrentBag<SessionPair> _sessions = [];
    private readonly SessionVariableLengthStructSettings<SpanByte, BlockInput> _lengths = new() { valueLength = new BlockValueLength() };
    private readonly PageTallies _pages;
    private readonly TenantLedger _tenants;
    private readonly List<(long Address, TenantLedger.Entry Entry)> _atRisk = [];
    private readonly RetentionJudge? _judge;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly long _ssdBytes;
    private int _truncating;
    private int _protecting;
    private long _protectedPage;
    private int _disposed;

    /// <summary>Opens a store; with <see cref="StoreOptions.Preallocate"/> every page is touched before it returns.</summary>
    public BlockStore(StoreOptions options, TimeProvider? timeProvider = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        Layout = StoreLayout.For(options);
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _ssdBytes = options.SsdBytes;
        _judge = options.Retention == StoreRetention.KvTier ? new RetentionJudge(TrackedBlocks(Layout)) : null;
        _ssdLock = options.SsdDirectory is null ? null : LockSsdDirectory(options.SsdDirectory);
        _device = options.SsdDirectory is null
            ? new NullDevice()
            : Devices.CreateLogDevice(Path.Combine(options.SsdDirectory, "kvtier.log"), preallocateFile: false, deleteOnClose: true);

        var logSettings = new LogSettings
        {
            LogDevice = _device,
            PageSizeBits = Layout.PageSizeBits,
            MemorySizeBits = Layout.PageSizeBits + BitOperations.Log2((uint)Layout.BufferPages),
            SegmentSizeBits = Math.Max(30, Layout.PageSizeBits),
            MutableFraction = 1.0 - options.SecondChanceFraction,
            ReadCopyOptions = ReadCopyOptions.None,
        };
        _kv = new FasterKV<SpanByte, SpanByte>(
            Layout.IndexBuckets, logSettings, comparer: new TenantKeyComparer(),
            variableLengthStructSettings: new VariableLengthStructSettings<SpanByte, SpanByte>
            {
                keyLength = new SpanByteVarLenStruct(),
                valueLength = new SpanByteVarLenStruct(),
            });
        _kv.Log.SetEmptyPageCount(Layout.BufferPages - 1 - Layout.WindowPages, wait: true);
        _pages = new PageTallies(_counters, Layout.PageSizeBits);
        _tenants = new TenantLedger(options, Layout.PageSizeBits);
        _functions = new BlockFunctions(_counters, _pages, _tenants);

        StoreLog.Layout(_logger, ByteSize.Format(options.MemoryBytes), ByteSize.Format(Layout.PageBytes), Layout.WindowPages,
            StoreLayout.SlackPages, ByteSize.Format(Layout.IndexBytes), ByteSize.Format(options.MaxBlockBytes),
            options.SsdDirectory is null ? "off" : $"{ByteSize.Format(options.SsdBytes)} in {options.SsdDirectory}");
        if (Layout.WindowPages < 8)
        {
            StoreLog.CoarsePages(_logger, Layout.WindowPages, ByteSize.Format(Layout.PageBytes));
        }

        if (options.Preallocate)
        {
            Preallocate();
        }
    }

    // Where the next Scrub goes on (a log address); one scrub at a time.
    private readonly Lock _scrubLock = new();
    private long _scrubCursor;

    /// <summary>The options the store was opened with.</summary>
    public StoreOptions Options { get; }

    /// <summary>How the budget was divided.</summary>
    public StoreLayout Layout { get; }

    /// <inheritdoc/>
    public long MaxBlockBytes => Options.MaxBlockBytes;

    private long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <inheritdoc/>
    public BlockStatus Put(string tenant, in BlockKey key, ReadOnlySpan<byte> payload, ulong geometryFingerprint = 0, TimeSpan? ttl = null)
        => Put(tenant, key, payload, geometryFingerprint, ttl, expectedChecksum: null);

    /// <inheritdoc/>
    public BlockStatus Put(string tenant, in BlockKey key, ReadOnlySpan<byte> payload, ulong geometryFingerprint, TimeSpan? ttl,
        ulong? expectedChecksum) => PutCore(tenant, key, payload, geometryFingerprint, ttl, expectedChecksum, 0);

    /// <inheritdoc/>
    public BlockStatus PutFrom(string tenant, in BlockKey key, IPayloadSource source, ulong geometryFingerprint = 0, TimeSpan? ttl = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        return PutCore(tenant, key, default, geometryFingerprint, ttl, null, 0, source);
    }

    private BlockStatus PutCore(string tenant, in BlockKey key, ReadOnlySpan<byte> payload, ulong geometryFingerprint, TimeSpan? ttl,
        ulong? expectedChecksum, int faultOffsetPlusOne, IPayloadSource? source = null)
    {
        ThrowIfDisposed();
        var length = source?.Length ?? payload.Length;
        if (length > MaxBlockBytes)
        {
            return BlockStatus.TooLarge;
        }

        var now = NowMs;
        Span<byte> keyBytes = stackalloc byte[TenantKey.MaxBytes];
        var keyLength = TenantKey.Write(keyBytes, tenant, key);
        var tenantId = _tenants.Id(tenant);
        // A tenant with a quota counts its live bytes: the version this put replaces stops counting.
        var replaced = _tenants.IsEntered(tenantId) ? AddressOf(tenant, key) : -1;
        var input = new BlockInput
        {
            Op = BlockOp.Put,
            Header = new BlockHeader(geometryFingerprint, length, 0, now, ExpiryOf(now, ttl)),
            FromSource = source is not null,
            ExpectedChecksum = expectedChecksum.GetValueOrDefault(),
            HasExpectedChecksum = expectedChecksum.HasValue,
            FaultOffsetPlusOne = faultOffsetPlusOne,
            TenantId = tenantId,
        };
        var output = new BlockOutput { Status = BlockStatus.Corrupt };
        var sessions = Rent();
        try
        {
            fixed (byte* k = keyBytes)
            fixed (byte* p = payload)
            {
                input.Payload = p;
                var keySpan = SpanByte.FromPointer(k, keyLength);
                // Only this value's length is used: BlockFunctions.SingleWriter takes the bytes from the input (or the source).
                var sizing = SpanByte.FromPointer(k, BlockHeader.Size + length);
                BlockFunctions.Source = source;
                sessions.Plain.Upsert(ref keySpan, ref input, ref sizing, ref output);
            }
        }
        finally
        {
            BlockFunctions.Source = null;
            Return(sessions);
        }

        if (output.Status == BlockStatus.Ok)
        {
            if (replaced >= 0)
            {
                _tenants.Died(replaced);
            }

            _counters.Put(length);
            _judge?.Stored(key);
            TruncateSsdIfFull();
            SettlePages();
            Protect();
        }

        return output.Status;
    }

    /// <inheritdoc/>
    public BlockStatus Get(string tenant, in BlockKey key, Span<byte> destination, out BlockInfo info)
    {
        ThrowIfDisposed();
        fixed (byte* d = destination)
        {
            var output = new BlockOutput { Destination = d, Capacity = destination.Length };
            var status = ReadOne(BlockOp.Read, tenant, key, ref output, out info);
            if (status == BlockStatus.Ok)
            {
                Served(key, info.PayloadLength);
            }

            return status;
        }
    }

    /// <inheritdoc/>
    public BlockStatus Lend<TState>(string tenant, in BlockKey key, ref TState state, BlockLender<TState> lender, out BlockInfo info)
        where TState : allows ref struct
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(lender);
        Span<byte> keyBytes = stackalloc byte[TenantKey.MaxBytes];
        var keyLength = TenantKey.Write(keyBytes, tenant, key);
        var input = new BlockInput { Op = BlockOp.Lend, NowUnixMs = NowMs, TenantId = _tenants.Find(tenant) };
        var output = default(BlockOutput);
        var status = BlockStatus.NotFound;
        var onSsd = false;
        info = default;
        var sessions = Rent();
        // The plain session: a read that copies to the tail may refresh the epoch after the callback, and the record
        // must stay put until the lender is done. The second chance such a read gives comes after, below.
        var context = sessions.Plain.UnsafeContext;
        context.BeginUnsafe();
        try
        {
            fixed (byte* k = keyBytes)
            {
                var keySpan = SpanByte.FromPointer(k, keyLength);
                var read = context.Read(ref keySpan, ref input, ref output);
                if (read.IsPending)
                {
                    // On the SSD: the callback saw an I/O buffer that is gone now. Read it the copying way below.
                    context.CompletePending(wait: true);
                    onSsd = true;
                }
                else if (read.Found)
                {
                    status = output.Status;
                    if (status == BlockStatus.Ok)
                    {
                        info = BlockInfo.Of(output.Header, TierOf(output.Address));
                        lender(info, new ReadOnlySpan<byte>(output.Record + BlockHeader.Size, (int)info.PayloadLength), ref state);
                    }
                }
            }
        }
        finally
        {
            context.EndUnsafe();
            Return(sessions);
        }

        if (onSsd)
        {
            return LendCopy(tenant, key, ref state, lender, out info);
        }

        Settle(status, tenant, key, output.Address);
        if (status == BlockStatus.Ok)
        {
            Served(key, info.PayloadLength);
            if (output.Address < _kv.Log.ReadOnlyAddress)
            {
                // Read-only region: a verified Get would have copied it to the tail; give it that second chance now.
                var renew = default(BlockOutput);
                ReadOne(BlockOp.Renew, tenant, key, ref renew, out _, settle: false);
            }
        }

        return status is BlockStatus.Expired ? BlockStatus.NotFound : status;
    }

    // A lend of a block on the SSD: verified into a pooled buffer, then lent from there.
    private BlockStatus LendCopy<TState>(string tenant, in BlockKey key, ref TState state, BlockLender<TState> lender, out BlockInfo info)
        where TState : allows ref struct
    {
        var status = Peek(tenant, key, out info);
        if (status != BlockStatus.Ok)
        {
            return status;
        }

        var buffer = ArrayPool<byte>.Shared.Rent((int)info.PayloadLength);
        try
        {
            status = Get(tenant, key, buffer, out info);
            if (status == BlockStatus.Ok)
            {
                lender(info, buffer.AsSpan(0, (int)info.PayloadLength), ref state);
            }

            return status;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <inheritdoc/>
    public BlockStatus Peek(string tenant, in BlockKey key, out BlockInfo info)
    {
        ThrowIfDisposed();
        var output = default(BlockOutput);
        return ReadOne(BlockOp.Peek, tenant, key, ref output, out info);
    }

    /// <inheritdoc/>
    public int LookupPrefix(string tenant, ReadOnlySpan<BlockKey> chain, Span<StorageTier> tiers)
    {
        ThrowIfDisposed();
        Span<byte> keyBytes = stackalloc byte[TenantKey.MaxBytes];
        var keyLength = BlockKey.Size + TenantKey.WriteTenant(keyBytes, tenant);
        var input = new BlockInput { Op = BlockOp.Peek, NowUnixMs = NowMs };
        var sessions = Rent();
        var found = 0;
        var missStatus = BlockStatus.Ok;
        var missAddress = 0L;
        // One epoch entry for the whole chain instead of one per key: a chain of 8192 keys is walked in well under 1 ms.
        var context = sessions.Plain.UnsafeContext;
        context.BeginUnsafe();
        try
        {
            fixed (byte* k = keyBytes)
            {
                var keySpan = SpanByte.FromPointer(k, keyLength);
                for (; found < chain.Length; found++)
                {
                    chain[found].AsSpan().CopyTo(keyBytes);
                    var output = default(BlockOutput);
                    var status = context.Read(ref keySpan, ref input, ref output);
                    if (status.IsPending)
                    {
                        context.CompletePendingWithOutputs(out var completed, wait: true);
                        TakeLast(completed, ref status, ref output);
                    }

                    missStatus = status.Found ? output.Status : BlockStatus.NotFound;
                    if (missStatus != BlockStatus.Ok)
                    {
                        missAddress = output.Address;
                        break;
                    }

                    if (found < tiers.Length)
                    {
                        tiers[found] = TierOf(output.Address);
                    }
                }
            }
        }
        finally
        {
            context.EndUnsafe();
            Return(sessions);
        }

        if (found < chain.Length)
        {
            Settle(missStatus, tenant, chain[found], missAddress); // counts the miss
        }

        _judge?.Looked(chain, found);
        return found;
    }

    /// <inheritdoc/>
    public BlockStatus Delete(string tenant, in BlockKey key)
    {
        ThrowIfDisposed();
        var output = default(BlockOutput);
        if (ReadOne(BlockOp.Peek, tenant, key, ref output, out _) is BlockStatus.NotFound)
        {
            return BlockStatus.NotFound;
        }

        if (DeleteRecord(tenant, key))
        {
            _counters.Deletion();
            _tenants.Died(output.Address);
            _judge?.Forget(key);
        }

        return BlockStatus.Ok;
    }

    /// <inheritdoc/>
    public BlockStatus Touch(string tenant, in BlockKey key, TimeSpan? ttl)
    {
        ThrowIfDisposed();
        var now = NowMs;
        Span<byte> keyBytes = stackalloc byte[TenantKey.MaxBytes];
        var keyLength = TenantKey.Write(keyBytes, tenant, key);
        var input = new BlockInput { Op = BlockOp.Touch, NowUnixMs = now, NewExpiresUnixMs = ExpiryOf(now, ttl), TenantId = _tenants.Find(tenant) };
        var output = new BlockOutput { Status = BlockStatus.NotFound };
        var sessions = Rent();
        Status status;
        try
        {
            fixed (byte* k = keyBytes)
            {
                var keySpan = SpanByte.FromPointer(k, keyLength);
                status = sessions.Plain.RMW(ref keySpan, ref input, ref output);
                if (status.IsPending)
                {
                    sessions.Plain.CompletePendingWithOutputs(out var completed, wait: true);
                    TakeLast(completed, ref status, ref output);
                }
            }
        }
        finally
        {
            Return(sessions);
        }

        if (status.Record.CopyUpdated)
        {
            _tenants.Died(output.Address); // the touched block moved to the tail
        }

        var result = status.NotFound ? BlockStatus.NotFound : output.Status;
        Settle(result, tenant, key, output.Address);
        Protect();
        return result is BlockStatus.Expired ? BlockStatus.NotFound : result;
    }

    /// <inheritdoc/>
    public IReadOnlyList<(string Tenant, BlockKey Key)> ListBlocks()
    {
        ThrowIfDisposed();
        var blocks = new List<(string, BlockKey)>();
        var tenants = new TenantNames();
        // A plain log scan: it does not run the store's callbacks (the session's deduplicating iterator would, through a
        // temporary store, and count its copies as writes). Older versions are deduplicated here, and a key whose
        // latest version is deleted or expired is dropped by the Peek below.
        using (var iterator = _kv.Log.Scan(_kv.Log.BeginAddress, _kv.Log.TailAddress))
        {
            Collect(iterator, blocks, tenants);
        }

        var seen = new HashSet<(string, BlockKey)>();
        // Checking liveness is not a client's read: it counts no hit, miss or expiry.
        blocks.RemoveAll(b =>
        {
            var output = default(BlockOutput);
            return !seen.Add(b) || ReadOne(BlockOp.Peek, b.Item1, b.Item2, ref output, out _, settle: false) != BlockStatus.Ok;
        });
        return blocks;
    }

    private static void Collect(IFasterScanIterator<SpanByte, SpanByte> iterator, List<(string, BlockKey)> blocks, TenantNames tenants)
    {
        while (iterator.GetNext(out var info))
        {
            if (Decode(iterator, info, tenants, out _) is { } block)
            {
                blocks.Add(block);
            }
        }
    }

    // The block a scanned record holds, or null for tombstones and preallocation fillers (reserved tenant).
    private static (string Tenant, BlockKey Key)? Decode(IFasterScanIterator<SpanByte, SpanByte> iterator, RecordInfo info,
        TenantNames tenants, out BlockHeader header)
    {
        var key = iterator.GetKey().AsReadOnlySpan();
        var value = iterator.GetValue().AsReadOnlySpan();
        var suffix = key.Length > BlockKey.Size ? key[BlockKey.Size..] : default;
        header = default;
        if (info.Tombstone || suffix.IsEmpty || suffix[0] < 0x20 || BlockHeader.TryRead(value, out header) != BlockStatus.Ok
            || header.PayloadLength != value.Length - BlockHeader.Size)
        {
            return null;
        }

        return (tenants.Of(suffix), new BlockKey(key[..BlockKey.Size]));
    }

    /// <inheritdoc/>
    public long Scrub(long maxBytes)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        var damaged = new List<(string Tenant, BlockKey Key, long Address)>();
        var verified = 0L;
        lock (_scrubLock)
        {
            var log = _kv.Log;
            var from = Math.Max(_scrubCursor, log.HeadAddress);
            if (from >= log.TailAddress)
            {
                from = log.HeadAddress; // past the newest block: start over at the oldest
            }

            var tenants = new TenantNames();
            using var iterator = log.Scan(from, log.TailAddress);
            while (verified < maxBytes && iterator.GetNext(out var info))
            {
                if (Decode(iterator, info, tenants, out var header) is not { } block)
                {
                    continue;
                }

                var payload = iterator.GetValue().AsReadOnlySpan()[BlockHeader.Size..];
                verified += payload.Length;
                if (BlockChecksum.Compute(payload) != header.PayloadChecksum)
                {
                    damaged.Add((block.Tenant, block.Key, iterator.CurrentAddress));
                }
            }

            _scrubCursor = iterator.NextAddress;
        }

        foreach (var (tenant, key, address) in damaged)
        {
            // Only the block's current version: an older one's damage is no reason to drop its successor.
            if (AddressOf(tenant, key) == address)
            {
                Settle(BlockStatus.Corrupt, tenant, key, address);
            }
        }

        // Counted last: whoever sees these bytes scrubbed also sees the damage in them counted and dropped.
        _counters.Scrubbed(verified);
        return verified;
    }

    /// <inheritdoc/>
    public StoreStats GetStats()
    {
        SettlePages();
        var log = _kv.Log;
        var spills = Options.SsdDirectory is not null;
        return new StoreStats
        {
            DramBlocks = _counters.AppendedRecords - _counters.EvictedFromDram,
            DramBytes = _counters.AppendedBytes - _counters.EvictedFromDramBytes,
            SsdBlocks = spills ? _counters.EvictedFromDram - _counters.EvictedFromSsd : 0,
            SsdBytes = spills ? Math.Max(0, log.HeadAddress - log.BeginAddress) : 0,
            MemoryBudgetBytes = Options.MemoryBytes,
            AllocatedBytes = log.MemorySizeBytes + Layout.IndexBytes + StoreLayout.FasterFixedBytes,
            PageBytes = Layout.PageBytes,
            Hits = _counters.Hits,
            Misses = _counters.Misses,
            Puts = _counters.Puts,
            PutPayloadBytes = _counters.PutBytes,
            GetPayloadBytes = _counters.GetBytes,
            EvictionsCapacity = spills ? _counters.EvictedFromSsd : _counters.EvictedFromDram,
            EvictionsTtl = _counters.Ttl,
            EvictionsDelete = _counters.Deleted,
            Corruptions = _counters.Corrupt,
            ScrubbedBytes = _counters.ScrubbedBytes,
            SecondChanceCopies = _counters.SecondChanceCopies,
            QuotaCopies = _counters.QuotaCopies,
            RetentionCopies = _counters.RetentionCopies,
        };
    }

    /// <inheritdoc/>
    public bool HasTenant(string tenant) => _tenants.Knows(tenant);

    /// <summary>Each tenant with a quota: the bytes its live blocks hold in DRAM, against its quota.</summary>
    public IReadOnlyList<TenantUsage> GetTenantUsage()
    {
        SettlePages();
        return _tenants.Usage();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        while (_sessions.TryTake(out var sessions))
        {
            sessions.Dispose();
        }

        _kv.Dispose();
        _device.Dispose();
        _ssdLock?.Dispose();
    }

    /// <summary>
    /// Test hook: stores a block whose payload has one byte flipped after its checksum was taken, as a memory or
    /// device fault would leave it.
    /// </summary>
    internal BlockStatus PutWithFault(string tenant, in BlockKey key, ReadOnlySpan<byte> payload, int flipOffset, ulong geometryFingerprint = 0)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(flipOffset, payload.Length);
        return PutCore(tenant, key, payload, geometryFingerprint, null, null, flipOffset + 1);
    }

    private BlockStatus ReadOne(BlockOp op, string tenant, in BlockKey key, ref BlockOutput output, out BlockInfo info, bool settle = true)
    {
        Span<byte> keyBytes = stackalloc byte[TenantKey.MaxBytes];
        var keyLength = TenantKey.Write(keyBytes, tenant, key);
        var input = new BlockInput { Op = op, NowUnixMs = NowMs, TenantId = _tenants.Find(tenant) };
        var sessions = Rent();
        BlockStatus status;
        bool copied;
        try
        {
            fixed (byte* k = keyBytes)
            {
                var keySpan = SpanByte.FromPointer(k, keyLength);
                status = ReadCore(op is BlockOp.Read or BlockOp.Renew ? sessions.Copying : sessions.Plain, ref keySpan, ref input, ref output, out copied);
            }
        }
        finally
        {
            Return(sessions);
        }

        info = status == BlockStatus.Ok ? BlockInfo.Of(output.Header, TierOf(output.Address)) : default;
        if (copied)
        {
            _tenants.Died(output.Address); // a second chance moved the block to the tail
            _judge?.Moved(key);
            Protect();
        }

        if (settle)
        {
            Settle(status, tenant, key, output.Address);
        }

        return status is BlockStatus.Expired ? BlockStatus.NotFound : status;
    }

    private static BlockStatus ReadCore(ClientSession<SpanByte, SpanByte, BlockInput, BlockOutput, Empty, BlockFunctions> session,
        ref SpanByte key, ref BlockInput input, ref BlockOutput output, out bool copied)
    {
        var status = session.Read(ref key, ref input, ref output);
        if (status.IsPending)
        {
            // A block on the SSD: the read lands in the caller's (pinned) buffer when the I/O completes.
            session.CompletePendingWithOutputs(out var completed, wait: true);
            TakeLast(completed, ref status, ref output);
        }

        copied = status.Record.Copied;
        return status.Found ? output.Status : BlockStatus.NotFound;
    }

    // The address of the current record of a block (live or not), -1 when there is none. Not a client's read.
    private long AddressOf(string tenant, in BlockKey key)
    {
        var output = default(BlockOutput);
        ReadOne(BlockOp.Peek, tenant, key, ref output, out _, settle: false);
        return output.Address == 0 ? -1 : output.Address; // no log record lives at address 0
    }

    // A pending operation (a block on the SSD) completes here; its result replaces the "pending" status and output.
    private static void TakeLast(CompletedOutputIterator<SpanByte, SpanByte, BlockInput, BlockOutput, Empty> completed, ref Status status,
        ref BlockOutput output)
    {
        using (completed)
        {
            while (completed.Next())
            {
                status = completed.Current.Status;
                output = completed.Current.Output;
            }
        }
    }

    // Expired and corrupt records are removed where they are found, and counted once.
    private void Settle(BlockStatus status, string tenant, in BlockKey key, long address)
    {
        switch (status)
        {
            case BlockStatus.NotFound:
                _counters.Miss();
                break;
            case BlockStatus.Expired:
                _counters.Miss();
                if (DeleteRecord(tenant, key))
                {
                    _counters.Expired();
                    _tenants.Died(address);
                }

                break;
            case BlockStatus.Corrupt:
                _counters.Corruption();
                StoreLog.Corrupt(_logger, key.ToString(), tenant, status);
                if (DeleteRecord(tenant, key))
                {
                    _tenants.Died(address);
                }

                break;
        }
    }

    private bool DeleteRecord(string tenant, in BlockKey key)
    {
        Span<byte> keyBytes = stackalloc byte[TenantKey.MaxBytes];
        var keyLength = TenantKey.Write(keyBytes, tenant, key);
        var sessions = Rent();
        try
        {
            fixed (byte* k = keyBytes)
            {
                var keySpan = SpanByte.FromPointer(k, keyLength);
                var status = sessions.Plain.Delete(ref keySpan);
                if (status.IsPending)
                {
                    sessions.Plain.CompletePending(wait: true);
                }

                return !status.NotFound;
            }
        }
        finally
        {
            Return(sessions);
        }
    }

    private void SettlePages()
    {
        _pages.Settle(_kv.Log.HeadAddress, _kv.Log.BeginAddress, Options.SsdDirectory is not null);
        _tenants.Settle(_kv.Log.HeadAddress);
    }

    /// <summary>
    /// Decides, before the head passes a page, which of its live blocks stay in memory: a block of a tenant with a quota
    /// is copied to the tail while its tenant is within the quota (over it, its oldest blocks are left to leave); any
    /// other block is copied when the retention judge keeps it (see <see cref="Keep"/>). Copies are FASTER's conditional
    /// copy, so a block written meanwhile is never overwritten by its older self. Pages are handled once,
    /// <see cref="GuardPages"/> pages of writes before the head reaches them, by one caller at a time.
    /// </summary>
    private void Protect()
    {
        if (!_tenants.Enabled || Interlocked.Exchange(ref _protecting, 1) == 1)
        {
            return;
        }

        SessionPair? sessions = null;
        try
        {
            // Copies move the tail too: go on until the pages at risk are all handled (bounded, in case quotas leave
            // writes no room, which validation prevents).
            for (var round = 0; round < 4 * Layout.WindowPages; round++)
            {
                var log = _kv.Log;
                var bits = Layout.PageSizeBits;
                // The head trails the tail page by the window: pages below this one leave within GuardPages pages of
                // writes. They are all below the read-only address, where FASTER's read copies a record to the tail.
                var atRisk = Math.Min((log.TailAddress >> bits) + GuardPages - Layout.WindowPages, log.SafeReadOnlyAddress >> bits);
                var from = Math.Max(_protectedPage, log.HeadAddress >> bits);
                if (from >= atRisk)
                {
                    return;
                }

                _atRisk.Clear();
                _tenants.Collect(from, atRisk, _atRisk);
                _protectedPage = atRisk;
                sessions ??= Rent();
                foreach (var (address, entry) in _atRisk)
                {
                    Keep(sessions, address, entry);
                }
            }
        }
        finally
        {
            _atRisk.Clear();
            if (sessions is not null)
            {
                Return(sessions);
            }

            Volatile.Write(ref _protecting, 0);
        }
    }

    /// <summary>
    /// The most blocks the retention judge keeps bookkeeping for (and as many pending classes of missed blocks): one
    /// per 8 KiB of the window, at least 1,024. Its maps grow with the blocks actually stored, up to that.
    /// </summary>
    private static int TrackedBlocks(StoreLayout layout) => (int)Math.Clamp(layout.WindowBytes / 8192, 1024, 1 << 24);

    /// <summary>
    /// How many pages before the head <see cref="Protect"/> handles a page. Quotas keep the second-chance region's
    /// margin; a judge alone decides late (1/16 of the window, at least a page), since every page earlier cuts the
    /// trip it judges by and lets fewer touches count.
    /// </summary>
    private int GuardPages => Math.Max(1, (int)(Layout.WindowPages * (_tenants.HasQuotas ? Options.SecondChanceFraction : JudgeGuardFraction)));

    private const double JudgeGuardFraction = 1.0 / 16;

    private void Keep(SessionPair sessions, long address, TenantLedger.Entry entry)
    {
        var judged = _tenants.Quota(entry.Tenant) == 0;
        if (judged)
        {
            // No quota (entered because retention is judged): the judge decides whether it makes another trip.
            if (_judge?.Keep(entry.Key) != true)
            {
                _tenants.Died(address);
                return;
            }
        }
        else if (_tenants.Resident(entry.Tenant) > _tenants.Quota(entry.Tenant))
        {
            // Over its quota: this, its oldest block, is the one to go. It stops counting now, so that the tenant keeps
            // its newest blocks up to its quota rather than losing every block of the pages at risk.
            _tenants.Died(address);
            return;
        }

        Span<byte> keyBytes = stackalloc byte[TenantKey.MaxBytes];
        var keyLength = TenantKey.Write(keyBytes, _tenants.Name(entry.Tenant), entry.Key);
        var input = new BlockInput { Op = judged ? BlockOp.Retain : BlockOp.Protect, NowUnixMs = NowMs, TenantId = entry.Tenant };
        var output = default(BlockOutput);
        bool copied;
        fixed (byte* k = keyBytes)
        {
            var keySpan = SpanByte.FromPointer(k, keyLength);
            ReadCore(sessions.Copying, ref keySpan, ref input, ref output, out copied);
        }

        if (copied)
        {
            _tenants.Died(output.Address);
        }

        if (output.Address != address)
        {
            _tenants.Died(address); // superseded or deleted by a write the ledger did not see
        }
    }

    // A block handed to a reader: counted, and as recent as the last access for the retention judge.
    private void Served(in BlockKey key, long payloadBytes)
    {
        _counters.Hit(payloadBytes);
        _judge?.Read(key);
    }

    private StorageTier TierOf(long address) => address >= _kv.Log.HeadAddress ? StorageTier.Dram : StorageTier.Ssd;

    private static long ExpiryOf(long now, TimeSpan? ttl)
    {
        if (ttl is not { } t)
        {
            return 0;
        }

        if (t <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ttl), ttl, "a TTL must be positive; pass null for no expiry.");
        }

        return now + (long)Math.Ceiling(t.TotalMilliseconds);
    }

    private void TruncateSsdIfFull()
    {
        if (_ssdBytes == 0)
        {
            return;
        }

        var log = _kv.Log;
        var head = log.HeadAddress;
        if (head - log.BeginAddress <= _ssdBytes || Interlocked.Exchange(ref _truncating, 1) == 1)
        {
            return;
        }

        try
        {
            var until = Math.Min(head, (head - _ssdBytes + Layout.PageBytes - 1) & ~(Layout.PageBytes - 1));
            log.ShiftBeginAddress(until, truncateLog: true);
            StoreLog.SsdTruncated(_logger, until);
        }
        finally
        {
            Volatile.Write(ref _truncating, 0);
        }
    }

    // Writes filler records (no block header, so never counted or served) until every page of the window has been
    // allocated and zeroed once; afterwards FASTER recycles those pages instead of faulting in fresh memory on puts.
    private void Preallocate()
    {
        var watch = Stopwatch.StartNew();
        // Touch the window and the slack pages: the budget covers them, and pages FASTER allocates later come from its
        // pool of recycled pages instead of fresh (first-touch) memory.
        var target = (Layout.WindowPages + StoreLayout.SlackPages) * Layout.PageBytes;
        var fillerLength = (int)(Layout.PageBytes / 2 - StoreLayout.RecordOverhead);
        Span<byte> keyBytes = stackalloc byte[TenantKey.MaxBytes];
        var keyLength = BlockKey.Size + TenantKey.WriteTenant(keyBytes, "\u0001fill");
        var input = new BlockInput { Op = BlockOp.Fill, TenantId = -1 };
        var output = default(BlockOutput);
        var sessions = Rent();
        var fillers = 0;
        var reported = 0;
        try
        {
            fixed (byte* k = keyBytes)
            {
                var keySpan = SpanByte.FromPointer(k, keyLength);
                var sizing = SpanByte.FromPointer(k, fillerLength);
                while (_kv.Log.TailAddress < target)
                {
                    BitConverter.TryWriteBytes(keyBytes, fillers++);
                    sessions.Plain.Upsert(ref keySpan, ref input, ref sizing, ref output);
                    var percent = (int)Math.Min(100, 100 * _kv.Log.TailAddress / target);
                    if (percent >= reported + 25)
                    {
                        reported = percent - percent % 25;
                        StoreLog.Preallocating(_logger, reported, ByteSize.Format(Math.Min(target, _kv.Log.TailAddress)), ByteSize.Format(target));
                    }
                }

                for (var i = 0; i < fillers; i++)
                {
                    BitConverter.TryWriteBytes(keyBytes, i);
                    sessions.Plain.Delete(ref keySpan);
                }
            }
        }
        finally
        {
            Return(sessions);
        }

        StoreLog.Ready(_logger, ByteSize.Format(_kv.Log.MemorySizeBytes + Layout.IndexBytes + StoreLayout.FasterFixedBytes), watch.Elapsed.TotalSeconds);
    }

    private SessionPair Rent()
    {
        ThrowIfDisposed();
        return _sessions.TryTake(out var sessions) ? sessions : new SessionPair(_kv, _functions, _lengths);
    }

    private void Return(SessionPair sessions)
    {
        if (Volatile.Read(ref _disposed) == 1)
        {
            sessions.Dispose();
            return;
        }

        _sessions.Add(sessions);
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) == 1, this);

    /// <summary>
    /// Takes <paramref name="directory"/> for this store alone: two stores spilling into one directory would write over
    /// each other's log segments (and the second's close would delete the first's). The lock is the open lock file.
    /// </summary>
    private static FileStream LockSsdDirectory(string directory)
    {
        var path = Path.Combine(Directory.CreateDirectory(directory).FullName, "kvtier.lock");
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new IOException($"--ssd-dir {directory} is in use by another kvtier store (it holds {path} open): give each sidecar its own directory.", e);
        }
    }

    /// <summary>Two FASTER sessions: reads through <see cref="Copying"/> give hot blocks near the head a second chance.</summary>
    private sealed class SessionPair(
        FasterKV<SpanByte, SpanByte> kv, BlockFunctions functions, SessionVariableLengthStructSettings<SpanByte, BlockInput> lengths) : IDisposable
    {
        public ClientSession<SpanByte, SpanByte, BlockInput, BlockOutput, Empty, BlockFunctions> Plain { get; } =
            kv.For(functions).NewSession<BlockFunctions>(sessionVariableLengthStructSettings: lengths, readCopyOptions: ReadCopyOptions.None);

        public ClientSession<SpanByte, SpanByte, BlockInput, BlockOutput, Empty, BlockFunctions> Copying { get; } =
            kv.For(functions).NewSession<BlockFunctions>(sessionVariableLengthStructSettings: lengths,
                readCopyOptions: new ReadCopyOptions(ReadCopyFrom.AllImmutable, ReadCopyTo.MainLog));

        public void Dispose()
        {
            Plain.Dispose();
            Copying.Dispose();
        }
    }
}
