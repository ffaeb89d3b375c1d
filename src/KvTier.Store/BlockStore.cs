using System.Collections.Concurrent;
using System.Diagnostics;
using System.Numerics;
using FASTER.core;
using KvTier.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KvTier.Store;

/// <summary>
/// The DRAM tier: a FASTER hybrid log of SpanByte records (tenant + block key → header + payload) within a memory
/// budget. The oldest blocks leave first; a read of a block near the head copies it to the tail (second chance), so
/// hot blocks stay. With an SSD directory the blocks leaving memory spill to a file device until its budget is spent.
/// Thread-safe: FASTER sessions are pooled, one per concurrent caller.
/// </summary>
public sealed unsafe class BlockStore : IBlockStore
{
    private readonly FasterKV<SpanByte, SpanByte> _kv;
    private readonly IDevice _device;
    private readonly BlockFunctions _functions;
    private readonly StoreCounters _counters = new();
    private readonly ConcurrentBag<SessionPair> _sessions = [];
    private readonly SessionVariableLengthStructSettings<SpanByte, BlockInput> _lengths = new() { valueLength = new BlockValueLength() };
    private readonly PageTallies _pages;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly long _ssdBytes;
    private int _truncating;
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
        _device = options.SsdDirectory is null
            ? new NullDevice()
            : Devices.CreateLogDevice(Path.Combine(CreateDirectory(options.SsdDirectory), "kvtier.log"), preallocateFile: false, deleteOnClose: true);

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
        _functions = new BlockFunctions(_counters, _pages);

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

    private BlockStatus PutCore(string tenant, in BlockKey key, ReadOnlySpan<byte> payload, ulong geometryFingerprint, TimeSpan? ttl,
        ulong? expectedChecksum, int faultOffsetPlusOne)
    {
        ThrowIfDisposed();
        if (payload.Length > MaxBlockBytes)
        {
            return BlockStatus.TooLarge;
        }

        var now = NowMs;
        var input = new BlockInput
        {
            Op = BlockOp.Put,
            Header = new BlockHeader(geometryFingerprint, payload.Length, 0, now, ExpiryOf(now, ttl)),
            ExpectedChecksum = expectedChecksum.GetValueOrDefault(),
            HasExpectedChecksum = expectedChecksum.HasValue,
            FaultOffsetPlusOne = faultOffsetPlusOne,
        };
        var output = new BlockOutput { Status = BlockStatus.Corrupt };
        Span<byte> keyBytes = stackalloc byte[TenantKey.MaxBytes];
        var keyLength = TenantKey.Write(keyBytes, tenant, key);
        var sessions = Rent();
        try
        {
            fixed (byte* k = keyBytes)
            fixed (byte* p = payload)
            {
                input.Payload = p;
                var keySpan = SpanByte.FromPointer(k, keyLength);
                // Only this value's length is used: BlockFunctions.SingleWriter takes the bytes from the input.
                var sizing = SpanByte.FromPointer(k, BlockHeader.Size + payload.Length);
                sessions.Plain.Upsert(ref keySpan, ref input, ref sizing, ref output);
            }
        }
        finally
        {
            Return(sessions);
        }

        if (output.Status == BlockStatus.Ok)
        {
            _counters.Put(payload.Length);
            TruncateSsdIfFull();
            SettlePages();
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
                _counters.Hit(info.PayloadLength);
            }

            return status;
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
            Settle(missStatus, tenant, chain[found]); // counts the miss
        }

        return found;
    }

    /// <inheritdoc/>
    public BlockStatus Delete(string tenant, in BlockKey key)
    {
        ThrowIfDisposed();
        if (Peek(tenant, key, out _) is var status && status is BlockStatus.NotFound or BlockStatus.Expired)
        {
            return BlockStatus.NotFound;
        }

        if (DeleteRecord(tenant, key))
        {
            _counters.Deletion();
        }

        return BlockStatus.Ok;
    }

    /// <inheritdoc/>
    public BlockStatus Touch(string tenant, in BlockKey key, TimeSpan? ttl)
    {
        ThrowIfDisposed();
        var now = NowMs;
        var input = new BlockInput { Op = BlockOp.Touch, NowUnixMs = now, NewExpiresUnixMs = ExpiryOf(now, ttl) };
        var output = new BlockOutput { Status = BlockStatus.NotFound };
        Span<byte> keyBytes = stackalloc byte[TenantKey.MaxBytes];
        var keyLength = TenantKey.Write(keyBytes, tenant, key);
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

        var result = status.NotFound ? BlockStatus.NotFound : output.Status;
        Settle(result, tenant, key);
        return result is BlockStatus.Expired ? BlockStatus.NotFound : result;
    }

    /// <inheritdoc/>
    public IReadOnlyList<(string Tenant, BlockKey Key)> ListBlocks()
    {
        ThrowIfDisposed();
        var blocks = new List<(string, BlockKey)>();
        var tenants = new Dictionary<int, string>(); // tenant names repeat: decode each distinct one once
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

    private static void Collect(IFasterScanIterator<SpanByte, SpanByte> iterator, List<(string, BlockKey)> blocks, Dictionary<int, string> tenants)
    {
        while (iterator.GetNext(out var info))
        {
            var key = iterator.GetKey().AsReadOnlySpan();
            var value = iterator.GetValue().AsReadOnlySpan();
            var suffix = key.Length > BlockKey.Size ? key[BlockKey.Size..] : default;
            if (info.Tombstone || suffix.IsEmpty || suffix[0] < 0x20 || BlockHeader.TryRead(value, out var header) != BlockStatus.Ok
                || header.PayloadLength != value.Length - BlockHeader.Size)
            {
                continue; // tombstones and preallocation fillers (reserved tenant) carry no block
            }

            var hash = HashCode.Combine(suffix.Length, System.IO.Hashing.XxHash32.HashToUInt32(suffix));
            if (!tenants.TryGetValue(hash, out var tenant) || !System.Text.Encoding.UTF8.GetBytes(tenant).AsSpan().SequenceEqual(suffix))
            {
                tenants[hash] = tenant = System.Text.Encoding.UTF8.GetString(suffix);
            }

            blocks.Add((tenant, new BlockKey(key[..BlockKey.Size])));
        }
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
            SecondChanceCopies = _counters.SecondChanceCopies,
        };
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
    }

    /// <summary>
    /// Test hook: stores a block whose payload has one byte flipped after its checksum was taken, as a memory or
    /// device fault would leave it.
    /// </summary>
    internal BlockStatus PutWithFault(string tenant, in BlockKey key, ReadOnlySpan<byte> payload, int flipOffset)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(flipOffset, payload.Length);
        return PutCore(tenant, key, payload, 0, null, null, flipOffset + 1);
    }

    private BlockStatus ReadOne(BlockOp op, string tenant, in BlockKey key, ref BlockOutput output, out BlockInfo info, bool settle = true)
    {
        var input = new BlockInput { Op = op, NowUnixMs = NowMs };
        Span<byte> keyBytes = stackalloc byte[TenantKey.MaxBytes];
        var keyLength = TenantKey.Write(keyBytes, tenant, key);
        var sessions = Rent();
        BlockStatus status;
        try
        {
            fixed (byte* k = keyBytes)
            {
                var keySpan = SpanByte.FromPointer(k, keyLength);
                status = ReadCore(op == BlockOp.Read ? sessions.Copying : sessions.Plain, ref keySpan, ref input, ref output);
            }
        }
        finally
        {
            Return(sessions);
        }

        var h = output.Header;
        info = status == BlockStatus.Ok
            ? new BlockInfo(h.PayloadLength, h.PayloadChecksum, h.GeometryFingerprint, h.CreatedUnixMs, h.ExpiresUnixMs, TierOf(output.Address))
            : default;
        if (settle)
        {
            Settle(status, tenant, key);
        }

        return status is BlockStatus.Expired ? BlockStatus.NotFound : status;
    }

    private static BlockStatus ReadCore(ClientSession<SpanByte, SpanByte, BlockInput, BlockOutput, Empty, BlockFunctions> session,
        ref SpanByte key, ref BlockInput input, ref BlockOutput output)
    {
        var status = session.Read(ref key, ref input, ref output);
        if (status.IsPending)
        {
            // A block on the SSD: the read lands in the caller's (pinned) buffer when the I/O completes.
            session.CompletePendingWithOutputs(out var completed, wait: true);
            TakeLast(completed, ref status, ref output);
        }

        return status.Found ? output.Status : BlockStatus.NotFound;
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
    private void Settle(BlockStatus status, string tenant, in BlockKey key)
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
                }

                break;
            case BlockStatus.Corrupt:
                _counters.Corruption();
                StoreLog.Corrupt(_logger, key.ToString(), tenant, status);
                DeleteRecord(tenant, key);
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

    private void SettlePages() => _pages.Settle(_kv.Log.HeadAddress, _kv.Log.BeginAddress, Options.SsdDirectory is not null);

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
        var input = new BlockInput { Op = BlockOp.Fill };
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

    private static string CreateDirectory(string path)
    {
        Directory.CreateDirectory(path);
        return path;
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
