using System.Numerics;
using KvTier.Core;

namespace KvTier.Store;

/// <summary>
/// How a memory budget becomes FASTER settings. Accounting:
/// <list type="bullet">
/// <item>Page size: the smallest power of two holding one record of the largest block
/// (payload + 64 B block header + record, key and length overheads), at least 1 MiB.</item>
/// <item>Hash index: 64 B buckets of 7 entries, one bucket per 64 KiB of budget (power of two, at least 1024).</item>
/// <item>FASTER's fixed allocations: two overflow-bucket allocator pages of 4 MiB each (<see cref="FasterFixedBytes"/>).</item>
/// <item>Log: the whole pages left after the index, less <see cref="SlackPages"/> pages that FASTER holds beyond the
/// in-memory window (the tail page being filled and the next one it opens ahead). The window is capped with
/// FASTER's EmptyPageCount, so memory need not be a power of two.</item>
/// </list>
/// Outside the budget (the documented overhead): FASTER's overflow pool of up to 4 recycled pages while pages
/// turn over, and further 4 MiB overflow-bucket pages only if more than 65,536 index buckets overflow.
/// </summary>
public sealed record StoreLayout(int PageSizeBits, int BufferPages, int WindowPages, long IndexBuckets)
{
    /// <summary>Pages allowed beyond the in-memory window: the tail page and the one opened ahead of it.</summary>
    public const int SlackPages = 2;

    /// <summary>Pages FASTER's overflow pool may hold while pages turn over.</summary>
    public const int OverflowPoolPages = 4;

    /// <summary>FASTER allocates two pinned overflow-bucket pages (65,536 × 64 B) when the store opens.</summary>
    public const long FasterFixedBytes = 2L * 65536 * 64;

    /// <summary>FASTER pads each page by two sectors for alignment.</summary>
    public const int PagePadding = 2 * 512;

    /// <summary>Largest tenant name, in UTF-8 bytes.</summary>
    public const int MaxTenantBytes = 64;

    /// <summary>Largest block the store supports (a FASTER value length is an int; pages top out at 1 GiB).</summary>
    public const long MaxSupportedBlockBytes = (512L << 20) - 4096;

    /// <summary>Per-record bytes besides the payload: RecordInfo 8, key length 4 + key, value length 4, header 64, alignment.</summary>
    public const int RecordOverhead = 8 + 4 + BlockKey.Size + MaxTenantBytes + 4 + BlockHeader.Size + 16;

    private const int MinPageSizeBits = 20;
    private const int PreferredPageSizeBits = 25;
    private const int MinWindowPages = 2;

    /// <summary>Bytes per log page.</summary>
    public long PageBytes => 1L << PageSizeBits;

    /// <summary>Bytes of the hash index.</summary>
    public long IndexBytes => IndexBuckets * 64;

    /// <summary>Log bytes kept in memory (the window).</summary>
    public long WindowBytes => WindowPages * PageBytes;

    /// <summary>Bytes the budget covers: FASTER's fixed allocations, the index, the window and the slack pages.</summary>
    public long BudgetedBytes => FasterFixedBytes + IndexBytes + (WindowPages + SlackPages) * (PageBytes + PagePadding);

    /// <summary>Budgeted bytes plus the documented fixed overhead (overflow pool pages).</summary>
    public long BudgetedBytesWithOverhead => BudgetedBytes + OverflowPoolPages * (PageBytes + PagePadding);

    /// <summary>Records of <paramref name="payloadBytes"/> that fit in one page.</summary>
    public long RecordsPerPage(long payloadBytes) => PageBytes / RecordBytes(payloadBytes);

    /// <summary>Fraction of each page left unused when every record carries <paramref name="payloadBytes"/>.</summary>
    public double PageWaste(long payloadBytes) => 1.0 - (double)(RecordsPerPage(payloadBytes) * payloadBytes) / PageBytes;

    /// <summary>Log bytes of one record (8-byte aligned).</summary>
    public static long RecordBytes(long payloadBytes) => (payloadBytes + RecordOverhead + 7) & ~7L;

    /// <summary>Derives the layout; throws <see cref="ArgumentException"/> with the fix when the budget is too small.</summary>
    public static StoreLayout For(StoreOptions options)
    {
        // One record of the largest block must fit; beyond that, larger pages waste less on blocks just over a power of
        // two (2 MiB + header wastes half a 4 MiB page but 6 % of a 32 MiB one), as long as the budget holds 16 pages.
        var fitBits = 64 - BitOperations.LeadingZeroCount((ulong)RecordBytes(options.MaxBlockBytes) - 1);
        var roomyBits = Math.Min(PreferredPageSizeBits, BitOperations.Log2((ulong)Math.Max(1, options.MemoryBytes / 16)));
        var pageBits = Math.Max(MinPageSizeBits, Math.Max(fitBits, roomyBits));
        if (options.PageBytes != 0)
        {
            if (options.PageBytes < 1L << MinPageSizeBits || !BitOperations.IsPow2(options.PageBytes) || options.PageBytes < 1L << fitBits)
            {
                throw new ArgumentException(
                    $"page size {options.PageBytes} is not a power of two from {ByteSize.Format(Math.Max(1L << MinPageSizeBits, 1L << fitBits))} "
                    + $"(the smallest that holds a {ByteSize.Format(options.MaxBlockBytes)} block) up: use one, or 0 to size pages from the budget.");
            }

            pageBits = BitOperations.Log2((ulong)options.PageBytes);
        }

        var page = 1L << pageBits;
        var buckets = (long)BitOperations.RoundUpToPowerOf2((ulong)Math.Max(1024, options.MemoryBytes / (64 * 1024)));
        while (buckets > 1024 && buckets * 64 > options.MemoryBytes / 16)
        {
            buckets /= 2;
        }

        var window = (int)Math.Min(int.MaxValue / 2, (options.MemoryBytes - FasterFixedBytes - buckets * 64) / (page + PagePadding) - SlackPages);
        if (window < MinWindowPages)
        {
            var needed = FasterFixedBytes + buckets * 64 + (MinWindowPages + SlackPages) * (page + PagePadding);
            throw new ArgumentException(
                $"--memory {ByteSize.Format(options.MemoryBytes)} is too small for --max-block {ByteSize.Format(options.MaxBlockBytes)}: "
                + $"pages of {ByteSize.Format(page)} hold one such block and the store needs {MinWindowPages + SlackPages} of them; "
                + $"raise --memory to at least {ByteSize.Format(needed)} or lower --max-block.");
        }

        // The circular buffer must be a power of two and leave at least one empty page beyond the window (FASTER keeps BufferPages - 1 - EmptyPageCount pages), which makes it
        // recycle closed pages instead of keeping every slot allocated.
        var buffer = (int)BitOperations.RoundUpToPowerOf2((uint)window + 2);
        return new StoreLayout(pageBits, buffer, window, buckets);
    }
}
