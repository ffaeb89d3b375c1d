using System.Text.Json.Serialization;

namespace KvTier.Bench;

/// <summary>What <c>kvtier bench store</c> measured. JSON names are a contract (see the foundation issue).</summary>
public sealed record StoreBenchResult
{
    [JsonPropertyName("put_gbps")] public double PutGbps { get; init; }
    [JsonPropertyName("get_gbps")] public double GetGbps { get; init; }
    /// <summary>DRAM → DRAM copy of the same bytes (the baseline of a put, which writes to DRAM).</summary>
    [JsonPropertyName("memcpy_gbps")] public double MemcpyGbps { get; init; }
    /// <summary>DRAM → one reused buffer (the baseline of a get, which lands in a reused buffer).</summary>
    [JsonPropertyName("memcpy_reused_gbps")] public double MemcpyReusedGbps { get; init; }
    [JsonPropertyName("put_vs_memcpy")] public double PutVsMemcpy => PutGbps / MemcpyGbps;
    [JsonPropertyName("get_vs_memcpy")] public double GetVsMemcpy => GetGbps / MemcpyGbps;
    [JsonPropertyName("get_vs_memcpy_reused")] public double GetVsMemcpyReused => GetGbps / MemcpyReusedGbps;
    [JsonPropertyName("block_bytes")] public long BlockBytes { get; init; }
    [JsonPropertyName("blocks")] public long Blocks { get; init; }
    [JsonPropertyName("model")] public string Model { get; init; } = "";
    [JsonPropertyName("store_bytes")] public long StoreBytes { get; init; }
    [JsonPropertyName("page_bytes")] public long PageBytes { get; init; }
    [JsonPropertyName("page_waste")] public double PageWaste { get; init; }
    [JsonPropertyName("preallocate_seconds")] public double PreallocateSeconds { get; init; }
    [JsonPropertyName("lookup_chain_keys")] public int LookupChainKeys { get; init; }
    [JsonPropertyName("lookup_chain_p50_us")] public double LookupChainP50Us { get; init; }
    [JsonPropertyName("lookup_chain_p99_us")] public double LookupChainP99Us { get; init; }
    [JsonPropertyName("passes")] public int Passes { get; init; }
}
