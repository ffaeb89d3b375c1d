using System.Globalization;
using System.Text;

namespace KvTier.Bench;

/// <summary>The markdown table of <c>kvtier bench transfer</c>.</summary>
public static class TransferBenchReport
{
    /// <summary>Renders the result with its targets.</summary>
    public static string Markdown(TransferBenchResult r)
    {
        var c = CultureInfo.InvariantCulture;
        var s = new StringBuilder();
        s.AppendLine(c, $"# kvtier bench transfer: {r.Model}, {r.BlockBytes >> 10} KiB blocks, {r.Layout} pool, {r.Accelerator}");
        s.AppendLine();
        s.AppendLine("| path | GB/s | × memcpy | target |");
        s.AppendLine("|---|---:|---:|---|");
        s.AppendLine(c, $"| memcpy of the same pool bytes, a thread per core | {r.MemcpyGbps:0.00} | 1.00 | |");
        s.AppendLine(c, $"| offload: pool gathered straight into store records | {r.OffloadGbps:0.00} | {r.OffloadVsMemcpy:0.00} | ≥ 0.5 {(r.OffloadVsMemcpy >= 0.5 ? "✅" : "❌")} |");
        s.AppendLine(c, $"| onload: verified in the store, scattered straight into the pool | {r.OnloadGbps:0.00} | {r.OnloadVsMemcpy:0.00} | ≥ 0.5 {(r.OnloadVsMemcpy >= 0.5 ? "✅" : "❌")} |");
        if (r.PcieD2hGbps is { } d2h && r.PcieH2dGbps is { } h2d)
        {
            s.AppendLine(c, $"| PCIe device → host (plain ILGPU copy) | {d2h:0.00} | | |");
            s.AppendLine(c, $"| PCIe host → device (plain ILGPU copy) | {h2d:0.00} | | |");
        }

        s.AppendLine();
        s.AppendLine(c, $"Reference prefill ({r.PrefillPreset}, {r.PrefillTokens} tokens): {r.PrefillTokensPerSecond:0} tokens/s. Median of {r.Passes} passes, {r.Blocks} blocks each way; offload and onload run a worker per core ({Environment.ProcessorCount}), as the memcpy does.");
        return s.ToString();
    }
}
