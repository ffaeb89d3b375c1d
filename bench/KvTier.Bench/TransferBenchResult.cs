using System.Text.Json.Serialization;

namespace KvTier.Bench;

/// <summary>What <c>kvtier bench transfer</c> measured. JSON names are a contract (see the transfer issue).</summary>
public sealed record TransferBenchResult
{
    /// <summary>Pool → staging → store, whole path.</summary>
    [JsonPropertyName("offload_gbps")] public double OffloadGbps { get; init; }
    /// <summary>Store → staging → pool, whole path (verified).</summary>
    [JsonPropertyName("onload_gbps")] public double OnloadGbps { get; init; }
    /// <summary>A plain copy of the same pool bytes to DRAM in the same run.</summary>
    [JsonPropertyName("memcpy_gbps")] public double MemcpyGbps { get; init; }
    [JsonPropertyName("offload_vs_memcpy")] public double OffloadVsMemcpy => OffloadGbps / MemcpyGbps;
    [JsonPropertyName("onload_vs_memcpy")] public double OnloadVsMemcpy => OnloadGbps / MemcpyGbps;
    [JsonPropertyName("prefill_tokens_per_s")] public double PrefillTokensPerSecond { get; init; }
    [JsonPropertyName("prefill_preset")] public string PrefillPreset { get; init; } = "";
    [JsonPropertyName("prefill_tokens")] public int PrefillTokens { get; init; }
    [JsonPropertyName("model")] public string Model { get; init; } = "";
    [JsonPropertyName("layout")] public string Layout { get; init; } = "";
    [JsonPropertyName("accelerator")] public string Accelerator { get; init; } = "";
    [JsonPropertyName("block_bytes")] public long BlockBytes { get; init; }
    [JsonPropertyName("blocks")] public long Blocks { get; init; }
    [JsonPropertyName("passes")] public int Passes { get; init; }
    /// <summary>Device → pinned host copy with plain ILGPU copies (GPU machines only).</summary>
    [JsonPropertyName("pcie_d2h_gbps")] public double? PcieD2hGbps { get; init; }
    /// <summary>Pinned host → device copy with plain ILGPU copies (GPU machines only).</summary>
    [JsonPropertyName("pcie_h2d_gbps")] public double? PcieH2dGbps { get; init; }
}
