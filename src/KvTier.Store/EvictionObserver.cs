using System.Buffers.Binary;
using System.Collections.Concurrent;
using FASTER.core;
using KvTier.Core;

namespace KvTier.Store;

/// <summary>
/// Counts the block records in each page FASTER closes (the page leaves DRAM: dropped, or spilled to the SSD
/// device), and remembers per-page counts of spilled pages so SSD truncation can count what it drops.
/// Filler records and tombstones carry no block header and are not counted.
/// </summary>
internal sealed class EvictionObserver(StoreCounters counters, int pageSizeBits, bool spills)
    : IObserver<IFasterScanIterator<SpanByte, SpanByte>>
{
    private readonly ConcurrentDictionary<long, int> _spilledPerPage = new();

    public void OnNext(IFasterScanIterator<SpanByte, SpanByte> iter)
    {
        long records = 0, bytes = 0, page = -1;
        var pageRecords = 0;
        while (iter.GetNext(out var info))
        {
            if (info.Tombstone || info.Invalid)
            {
                continue;
            }

            var value = iter.GetValue().AsReadOnlySpan();
            if (value.Length < BlockHeader.Size || BinaryPrimitives.ReadUInt32LittleEndian(value) != BlockHeader.Magic)
            {
                continue;
            }

            records++;
            bytes += value.Length;
            if (spills)
            {
                var p = iter.CurrentAddress >> pageSizeBits;
                if (p != page && page >= 0)
                {
                    _spilledPerPage.AddOrUpdate(page, pageRecords, (_, n) => n + pageRecords);
                    pageRecords = 0;
                }

                page = p;
                pageRecords++;
            }
        }

        if (spills && page >= 0)
        {
            _spilledPerPage.AddOrUpdate(page, pageRecords, (_, n) => n + pageRecords);
        }

        counters.LeftDram(records, bytes);
    }

    /// <summary>Counts (and forgets) the spilled records on pages below <paramref name="beginAddress"/>.</summary>
    public void Truncated(long beginAddress)
    {
        var firstKept = beginAddress >> pageSizeBits;
        foreach (var (page, count) in _spilledPerPage)
        {
            if (page < firstKept && _spilledPerPage.TryRemove(page, out _))
            {
                counters.LeftSsd(count);
            }
        }
    }

    public void OnCompleted()
    {
    }

    public void OnError(Exception error)
    {
    }
}
