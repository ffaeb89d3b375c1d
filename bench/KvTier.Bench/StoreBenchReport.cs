using System.Globalization;
using System.Text;

namespace KvTier.Bench;

/// <summary>The markdown table people read after <c>kvtier bench store</c>.</summary>
public static class StoreBenchReport
{
    /// <summary>Renders the result as a markdown table with the targets beside the figures.</summary>
    public static string Markdown(StoreBenchResult r)
    {
        var s = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        s.AppendLine(c, $"# kvtier bench store: {r.Model}, {r.BlockBytes >> 10} KiB blocks, {r.StoreBytes >> 20} MiB store");
        s.AppendLine();
        s.AppendLine("| path | GB/s | ratio | target |");
        s.AppendLine("|---|---:|---:|---|");
        s.AppendLine(c, $"| memcpy DRAM → DRAM (put baseline) | {r.MemcpyGbps:0.00} | 1.00 | |");
        s.AppendLine(c, $"| memcpy DRAM → reused buffer (get baseline) | {r.MemcpyReusedGbps:0.00} | | |");
        s.AppendLine(c, $"| store put | {r.PutGbps:0.00} | {r.PutVsMemcpy:0.00} × memcpy | ≥ 0.5 {Mark(r.PutVsMemcpy >= 0.5)} |");
        s.AppendLine(c, $"| store get (verified, reused pinned buffer) | {r.GetGbps:0.00} | {r.GetVsMemcpy:0.00} × memcpy, {r.GetVsMemcpyReused:0.00} × reused | ≥ 0.5 {Mark(r.GetVsMemcpy >= 0.5)} |");
        s.AppendLine();
        s.AppendLine(c, $"Lookup of a {r.LookupChainKeys}-key chain: p50 {r.LookupChainP50Us:0} µs, p99 {r.LookupChainP99Us:0} µs (target p99 ≤ 1000 µs {Mark(r.LookupChainP99Us <= 1000)}).");
        s.AppendLine(c, $"Pages of {r.PageBytes >> 20} MiB waste {r.PageWaste:P1} on these blocks; preallocation took {r.PreallocateSeconds:0.0} s (untimed). Median of {r.Passes} passes, {r.Blocks} blocks measured.");
        return s.ToString();
    }

    private static string Mark(bool ok) => ok ? "✅" : "❌";
}
