using KvTier.Core;

namespace KvTier.Store;

/// <summary>Settings of the DRAM (and optional SSD) tier. Validated when the store starts.</summary>
public sealed class StoreOptions
{
    /// <summary>
    /// The memory budget, in bytes (default 1 GiB): log pages plus the hash index. See <see cref="StoreLayout"/>
    /// for the accounting; a few pages of FASTER slack come on top and are reported as overhead.
    /// </summary>
    public long MemoryBytes { get; set; } = 1L << 30;

    /// <summary>The largest block payload accepted (default 64 MiB). Log pages are sized so one record of this size fits.</summary>
    public long MaxBlockBytes { get; set; } = 64L << 20;

    /// <summary>
    /// Log page size in bytes: a power of two of at least 1 MiB that holds one record of <see cref="MaxBlockBytes"/>.
    /// 0 (default) sizes pages from the budget (see <see cref="StoreLayout"/>). The head leaves memory a page at a
    /// time, so smaller pages make eviction finer-grained.
    /// </summary>
    public long PageBytes { get; set; }

    /// <summary>Directory of the SSD spill file; null keeps everything in DRAM (blocks leaving memory are dropped).</summary>
    public string? SsdDirectory { get; set; }

    /// <summary>Bytes the spill file may hold before its oldest blocks are dropped (required with <see cref="SsdDirectory"/>).</summary>
    public long SsdBytes { get; set; }

    /// <summary>Touch every log page at start so first-touch page faults stay out of the put path (default true).</summary>
    public bool Preallocate { get; set; } = true;

    /// <summary>
    /// Fraction of the in-memory log, from the head, whose blocks get a second chance: a read there copies the
    /// block to the tail so hot blocks survive while cold ones age out (default 0.25).
    /// </summary>
    public double SecondChanceFraction { get; set; } = 0.25;

    /// <summary>
    /// DRAM quotas by tenant, in bytes (default: none). A tenant within its quota keeps its newest blocks in memory
    /// however hard other tenants write: blocks the head is about to pass are copied forward instead. A tenant over
    /// its quota may use memory nobody else needs, but its oldest blocks are the ones that leave.
    /// </summary>
    public IReadOnlyDictionary<string, long> TenantQuotas { get; set; } = new Dictionary<string, long>();

    /// <summary>
    /// Which blocks stay in DRAM when the log's head is about to pass them (default <see cref="StoreRetention.KvTier"/>).
    /// Tenants with a quota keep theirs by it either way.
    /// </summary>
    public StoreRetention Retention { get; set; } = StoreRetention.KvTier;

    /// <summary>The quota of every tenant not in <see cref="TenantQuotas"/>, in bytes (default 0: none).</summary>
    public long DefaultTenantQuotaBytes { get; set; }

    /// <summary>The most of the in-memory window that quotas together may reserve (90 %): the rest keeps writes moving.</summary>
    public const double MaxReservedFraction = 0.9;

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad setting and the fix.</summary>
    public void Validate()
    {
        if (MaxBlockBytes < 1 || MaxBlockBytes > StoreLayout.MaxSupportedBlockBytes)
        {
            throw new ArgumentException(
                $"max block {MaxBlockBytes} is out of range: set --max-block between 1B and {ByteSize.Format(StoreLayout.MaxSupportedBlockBytes)}.");
        }

        if (SecondChanceFraction is < 0 or > 0.9)
        {
            throw new ArgumentException($"second-chance fraction {SecondChanceFraction} is out of range: use 0 to 0.9.");
        }

        if (SsdDirectory is null != (SsdBytes == 0))
        {
            throw new ArgumentException(SsdDirectory is null
                ? $"--ssd-size {ByteSize.Format(SsdBytes)} was given without --ssd-dir: give both, or neither."
                : $"--ssd-dir {SsdDirectory} was given without --ssd-size: give its budget, e.g. --ssd-size 64GiB.");
        }

        if (SsdBytes < 0)
        {
            throw new ArgumentException($"--ssd-size {SsdBytes} is negative.");
        }

        // The layout checks that the memory holds enough pages for the largest block.
        var layout = StoreLayout.For(this);
        ValidateQuotas(layout);
    }

    private void ValidateQuotas(StoreLayout layout)
    {
        if (TenantQuotas.Count == 0 && DefaultTenantQuotaBytes == 0)
        {
            return;
        }

        if (DefaultTenantQuotaBytes < 0 || TenantQuotas.Any(q => q.Value <= 0))
        {
            throw new ArgumentException("tenant quotas must be positive sizes: give each tenant a size such as 2GiB, or leave it out.");
        }

        if (SecondChanceFraction <= 0)
        {
            throw new ArgumentException("tenant quotas keep blocks by copying them out of the second-chance region: give it a fraction above 0.");
        }

        var reserved = TenantQuotas.Values.Sum();
        var limit = (long)(layout.WindowBytes * MaxReservedFraction);
        if (reserved > limit)
        {
            throw new ArgumentException(
                $"the tenant quotas add up to {ByteSize.Format(reserved)}, more than {MaxReservedFraction:P0} of the {ByteSize.Format(layout.WindowBytes)} "
                + $"the store keeps in memory ({ByteSize.Format(limit)}): lower the quotas or raise --memory.");
        }
    }
}
