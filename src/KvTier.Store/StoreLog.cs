using Microsoft.Extensions.Logging;

namespace KvTier.Store;

/// <summary>Source-generated store logs (event ids 1000–1099).</summary>
internal static partial class StoreLog
{
    [LoggerMessage(1000, LogLevel.Information,
        "Store: budget {Budget}, pages of {Page} ({Window} in memory + {Slack} slack), index {Index}, max block {MaxBlock}, ssd {Ssd}")]
    public static partial void Layout(ILogger logger, string budget, string page, int window, int slack, string index, string maxBlock, string ssd);

    [LoggerMessage(1001, LogLevel.Information, "Preallocating the store's memory: {Percent}% ({Done} of {Total})")]
    public static partial void Preallocating(ILogger logger, int percent, string done, string total);

    [LoggerMessage(1002, LogLevel.Information, "Store ready: {Allocated} allocated in {Seconds:0.0} s")]
    public static partial void Ready(ILogger logger, string allocated, double seconds);

    [LoggerMessage(1003, LogLevel.Warning, "Block {Key} of tenant {Tenant} failed verification ({Status}); it was dropped and will not be served")]
    public static partial void Corrupt(ILogger logger, string key, string tenant, Core.BlockStatus status);

    [LoggerMessage(1005, LogLevel.Information,
        "Only {Window} pages of {Page} fit the budget: memory is used in coarse steps. A lower --max-block (pages are sized for it) or a larger --memory uses it better")]
    public static partial void CoarsePages(ILogger logger, int window, string page);

    [LoggerMessage(1004, LogLevel.Debug, "SSD budget reached: dropped the spill log below address {Address}")]
    public static partial void SsdTruncated(ILogger logger, long address);
}
