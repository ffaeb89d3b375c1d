using System.Collections.Concurrent;
using KvTier.Core;

namespace KvTier.Store;

/// <summary>
/// The tenants a store has seen and, for tenants with a DRAM quota, the bytes their blocks hold in memory. A record of
/// a tenant with a quota is entered under its log page when it is written (key, tenant, length: about 80 bytes of
/// bookkeeping per block), leaves the tenant's count when it is superseded, deleted or copied forward, and the rest of
/// its page leaves the count when the page leaves DRAM. The store reads the entries of the pages the head is about to
/// pass to keep each tenant's newest blocks, up to its quota, in memory (see <see cref="BlockStore"/>). With KvTier
/// retention every tenant's records are entered, so the retention judge is asked about each block before it leaves.
/// </summary>
internal sealed class TenantLedger(StoreOptions options, int pageSizeBits)
{
    private readonly ConcurrentDictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<long, PageEntries> _pages = new();
    private readonly Lock _grow = new();
    private readonly Lock _settle = new();
    private Account[] _accounts = [];
    private long _dramFrom; // first page whose entries have not left DRAM yet

    // With KvTier retention every tenant's records are entered, so the judge sees each block before it leaves.
    private readonly bool _everyTenant = options.Retention == StoreRetention.KvTier;

    /// <summary>True when some tenant has a quota.</summary>
    public bool HasQuotas { get; } = options.TenantQuotas.Count > 0 || options.DefaultTenantQuotaBytes > 0;

    /// <summary>True when some tenant has a quota, or retention is judged: only then are records entered.</summary>
    public bool Enabled => HasQuotas || _everyTenant;

    /// <summary>The id of <paramref name="tenant"/>, added on first use (puts add tenants; reads only look them up).</summary>
    public int Id(string tenant)
    {
        if (_ids.TryGetValue(tenant, out var id))
        {
            return id;
        }

        lock (_grow)
        {
            if (_ids.TryGetValue(tenant, out id))
            {
                return id;
            }

            var quota = options.TenantQuotas.TryGetValue(tenant, out var q) ? q : options.DefaultTenantQuotaBytes;
            id = _accounts.Length;
            _accounts = [.. _accounts, new Account(tenant, quota)];
            _ids[tenant] = id;
            return id;
        }
    }

    /// <summary>The id of a tenant already seen, or -1.</summary>
    public int Find(string tenant) => _ids.TryGetValue(tenant, out var id) ? id : -1;

    /// <summary>True once a block of <paramref name="tenant"/> was stored here (it may since have left).</summary>
    public bool Knows(string tenant) => _ids.ContainsKey(tenant);

    /// <summary>True when the tenant's records are entered: it has a quota, or retention is judged.</summary>
    public bool IsEntered(int id) => Enabled && id >= 0 && Volatile.Read(ref _accounts) is var accounts && id < accounts.Length && (_everyTenant || accounts[id].Quota > 0);

    /// <summary>The tenant's name.</summary>
    public string Name(int id) => Volatile.Read(ref _accounts)[id].Name;

    /// <summary>The tenant's quota in bytes (0: none).</summary>
    public long Quota(int id) => Volatile.Read(ref _accounts)[id].Quota;

    /// <summary>Bytes of the tenant's live blocks in DRAM (as far as the ledger knows).</summary>
    public long Resident(int id) => Volatile.Read(ref Volatile.Read(ref _accounts)[id].Resident);

    /// <summary>Each tenant with a quota: its name, bytes in DRAM and quota.</summary>
    public IReadOnlyList<TenantUsage> Usage() =>
        [.. Volatile.Read(ref _accounts).Where(a => a.Quota > 0).Select(a => new TenantUsage(a.Name, Volatile.Read(ref a.Resident), a.Quota))];

    /// <summary>Enters a record of a tenant with a quota, written at <paramref name="address"/>.</summary>
    public void Appended(long address, int id, ReadOnlySpan<byte> recordKey, int length)
    {
        if (!IsEntered(id))
        {
            return;
        }

        var page = _pages.GetOrAdd(address >> pageSizeBits, static _ => new PageEntries());
        var entry = new Entry(new BlockKey(recordKey[..BlockKey.Size]), id, length);
        lock (page)
        {
            if (page.Settled)
            {
                return;
            }

            page.Entries[address] = entry;
        }

        Interlocked.Add(ref Volatile.Read(ref _accounts)[id].Resident, length);
    }

    /// <summary>The record at <paramref name="address"/> is no longer live (superseded, deleted, copied forward).</summary>
    public void Died(long address)
    {
        if (!Enabled || !_pages.TryGetValue(address >> pageSizeBits, out var page))
        {
            return;
        }

        Entry entry;
        lock (page)
        {
            if (page.Settled || !page.Entries.Remove(address, out entry))
            {
                return;
            }
        }

        Interlocked.Add(ref Volatile.Read(ref _accounts)[entry.Tenant].Resident, -entry.Length);
    }

    /// <summary>The pages below <paramref name="headAddress"/> left DRAM: their live records leave their tenants' counts.</summary>
    public void Settle(long headAddress)
    {
        if (!Enabled)
        {
            return;
        }

        var head = headAddress >> pageSizeBits;
        lock (_settle)
        {
            for (; _dramFrom < head; _dramFrom++)
            {
                if (!_pages.TryRemove(_dramFrom, out var page))
                {
                    continue;
                }

                lock (page)
                {
                    page.Settled = true;
                    foreach (var entry in page.Entries.Values)
                    {
                        Interlocked.Add(ref Volatile.Read(ref _accounts)[entry.Tenant].Resident, -entry.Length);
                    }

                    page.Entries.Clear();
                }
            }
        }
    }

    /// <summary>Adds the live records of pages [<paramref name="fromPage"/>, <paramref name="toPage"/>) to <paramref name="into"/>, oldest page first.</summary>
    public void Collect(long fromPage, long toPage, List<(long Address, Entry Entry)> into)
    {
        for (var p = fromPage; p < toPage; p++)
        {
            if (_pages.TryGetValue(p, out var page))
            {
                lock (page)
                {
                    into.AddRange(page.Entries.OrderBy(e => e.Key).Select(e => (e.Key, e.Value)));
                }
            }
        }
    }

    /// <summary>A record of a tenant with a quota.</summary>
    internal readonly record struct Entry(BlockKey Key, int Tenant, int Length);

    private sealed class PageEntries
    {
        public Dictionary<long, Entry> Entries { get; } = [];

        public bool Settled { get; set; }
    }

    private sealed class Account(string name, long quota)
    {
        public long Resident;

        public string Name { get; } = name;

        public long Quota { get; } = quota;
    }
}

/// <summary>One tenant's DRAM use against its quota.</summary>
/// <param name="Tenant">The tenant.</param>
/// <param name="DramBytes">Bytes (block header and payload) of its live blocks in DRAM.</param>
/// <param name="QuotaBytes">Its quota.</param>
public readonly record struct TenantUsage(string Tenant, long DramBytes, long QuotaBytes);
