using System.Collections.Concurrent;

namespace KvTier.Store;

/// <summary>
/// Counts block records per log page as they are written, so that when FASTER moves its head (pages leave DRAM) or its
/// begin address (spilled pages leave the SSD) the store knows how many blocks left, without scanning the pages
/// (FASTER's eviction scan copies every record it visits, which would double the cost of a put).
/// Superseded and deleted versions count until their page leaves, as they occupy it until then.
/// </summary>
internal sealed class PageTallies(StoreCounters counters, int pageSizeBits)
{
    private readonly ConcurrentDictionary<long, Tally> _pages = new();
    private readonly Lock _settle = new();
    private long _lastPage = -1;
    private Tally? _last;
    private long _dramFrom; // first page still in DRAM
    private long _ssdFrom;  // first page still on the SSD

    /// <summary>Records a block record of <paramref name="bytes"/> written at <paramref name="address"/>.</summary>
    public void Add(long address, long bytes)
    {
        var page = address >> pageSizeBits;
        // Writes go to the tail page almost always: remember it to skip the dictionary.
        var tally = Volatile.Read(ref _lastPage) == page ? _last : null;
        if (tally is null)
        {
            tally = _pages.GetOrAdd(page, static _ => new Tally());
            _last = tally;
            Volatile.Write(ref _lastPage, page);
        }

        Interlocked.Increment(ref tally.Records);
        Interlocked.Add(ref tally.Bytes, bytes);
    }

    /// <summary>Moves the pages below <paramref name="headAddress"/> out of DRAM and drops those below <paramref name="beginAddress"/>.</summary>
    public void Settle(long headAddress, long beginAddress, bool spills)
    {
        var head = headAddress >> pageSizeBits;
        var begin = beginAddress >> pageSizeBits;
        lock (_settle)
        {
            for (; _dramFrom < head; _dramFrom++)
            {
                if (_pages.TryGetValue(_dramFrom, out var t))
                {
                    counters.LeftDram(t.Records, t.Bytes);
                    if (!spills)
                    {
                        _pages.TryRemove(_dramFrom, out _);
                    }
                }
            }

            for (_ssdFrom = Math.Max(_ssdFrom, spills ? 0 : head); spills && _ssdFrom < begin; _ssdFrom++)
            {
                if (_pages.TryRemove(_ssdFrom, out var t))
                {
                    counters.LeftSsd(t.Records);
                }
            }
        }
    }

    private sealed class Tally
    {
        public long Records;
        public long Bytes;
    }
}
