using System.Net;
using KvTier.Core;
using KvTier.Store;

namespace KvTier.Server;

/// <summary>
/// Settings of one sidecar. Bound from appsettings.json / <c>--config FILE</c> (section <c>KvTier</c>), then
/// <c>KVTIER__NAME</c> environment variables, then <c>kvtier serve</c> flags (see <see cref="ServerOptionsBinder"/>).
/// Sizes are kept as written (e.g. <c>1GiB</c>) so that <c>config print</c> shows what the operator wrote;
/// <see cref="Validate"/> checks every one and names the setting and the fix.
/// </summary>
public sealed class ServerOptions
{
    /// <summary>The configuration section holding these settings.</summary>
    public const string SectionName = "KvTier";

    /// <summary>gRPC address <c>host:port</c> (h2c). Port 0 picks a free port. Default <c>127.0.0.1:50051</c>.</summary>
    public string Listen { get; set; } = "127.0.0.1:50051";

    /// <summary>This node's id. Default: <see cref="Environment.MachineName"/>.</summary>
    public string NodeId { get; set; } = Environment.MachineName;

    /// <summary>Block-key hash seed (vLLM's PYTHONHASHSEED), as a string. Default <c>0</c>.</summary>
    public string HashSeed { get; set; } = "0";

    /// <summary>Tokens per block. Default 16.</summary>
    public int BlockTokens { get; set; } = 16;

    /// <summary>DRAM budget of the store. Default <c>1GiB</c>.</summary>
    public string Memory { get; set; } = "1GiB";

    /// <summary>Largest block accepted. Default <c>64MiB</c>.</summary>
    public string MaxBlock { get; set; } = "64MiB";

    /// <summary>SSD spill directory (requires <see cref="SsdSize"/>). Default: no SSD tier.</summary>
    public string? SsdDir { get; set; }

    /// <summary>SSD spill size (requires <see cref="SsdDir"/>). Default: no SSD tier.</summary>
    public string? SsdSize { get; set; }

    /// <summary>
    /// Which blocks the store keeps in DRAM as its log moves on: <c>kvtier</c> (learned reuse classes decide which
    /// blocks near the head are copied forward) or <c>fifo</c> (oldest first, a read near the head gives a second
    /// chance). Default <c>kvtier</c>.
    /// </summary>
    public string Retention { get; set; } = DefaultRetention;

    /// <summary>Cluster name. Default <c>kvtier</c>.</summary>
    public string Cluster { get; set; } = DefaultCluster;

    /// <summary>Static peers: the gRPC <c>host:port</c> of each member. Default: none (single node).</summary>
    public IReadOnlyList<string> Peers { get; set; } = [];

    /// <summary>etcd URL for membership. Default: none.</summary>
    public string? Etcd { get; set; }

    /// <summary>Copies kept of each block in the cluster. Default 2.</summary>
    public int Replicas { get; set; } = DefaultReplicas;

    /// <summary>When a put is acknowledged: <c>local</c>, <c>one</c> or <c>all</c>. Default <c>local</c>.</summary>
    public string WriteAck { get; set; } = DefaultWriteAck;

    /// <summary>Peer data-plane address <c>host:port</c>. Default: the listen host on a free port.</summary>
    public string? DataListen { get; set; }

    /// <summary>Shared secret of the peer data plane's handshake (HMAC-SHA256). Default: none.</summary>
    public string? ClusterSecret { get; set; }

    /// <summary><c>auto</c>, <c>cuda</c> or <c>cpu</c>. Default <c>auto</c>. The GPU transfer path is not yet available.</summary>
    public string Accelerator { get; set; } = DefaultAccelerator;

    /// <summary>
    /// Pinned staging memory, preallocated at start: device pools move blocks through it (DMA needs page-locked memory),
    /// and a block found damaged on onload is read back through it. Host pools copy straight between pool and store.
    /// Default <c>256MiB</c>.
    /// </summary>
    public string Staging { get; set; } = DefaultStaging;

    /// <summary>
    /// Bytes of stored blocks whose checksums are verified per second in the background, oldest to newest and round
    /// again: a damaged block nobody reads (a zero-copy peer send leaves verification to the receiver) is counted and
    /// dropped. Default <c>64MiB</c>, about 2 ms of one core per second; <c>0</c> turns the scrub off.
    /// </summary>
    public string ScrubRate { get; set; } = DefaultScrubRate;

    /// <summary>
    /// Operations endpoint <c>host:port</c> (HTTP/1.1): Prometheus <c>/metrics</c>, <c>/healthz</c> (alive) and
    /// <c>/readyz</c> (serving). The host is an IP literal, <c>localhost</c> or <c>*</c>; port 0 picks a free port.
    /// Default: off (no endpoint; the gRPC health service still answers).
    /// </summary>
    public string? Metrics { get; set; }

    /// <summary>API keys, tenants, admin keys and DRAM quotas (section <c>KvTier:Auth</c>). Default: no keys, one tenant.</summary>
    public AuthOptions Auth { get; set; } = new();

    /// <summary>HTTPS for the gRPC endpoint (section <c>KvTier:Tls</c>). Default: off (h2c).</summary>
    public TlsOptions Tls { get; set; } = new();

    internal const string DefaultCluster = "kvtier";
    internal const int DefaultReplicas = 2;
    internal const string DefaultWriteAck = "local";
    internal const string DefaultRetention = "kvtier";
    internal const string DefaultAccelerator = "auto";
    internal const string DefaultStaging = "256MiB";
    internal const string DefaultScrubRate = "64MiB";
    internal static readonly string[] WriteAckModes = ["local", "one", "all"];
    internal static readonly string[] RetentionModes = ["kvtier", "fifo"];
    internal static readonly string[] AcceleratorModes = ["auto", "cuda", "cpu"];

    /// <summary>Background scrub bytes per second, 0 for none (call <see cref="Validate"/> first).</summary>
    public long ScrubBytesPerSecond => ByteSize.Parse(ScrubRate);

    /// <summary>Pinned staging bytes (call <see cref="Validate"/> first).</summary>
    public long StagingBytes => ByteSize.Parse(Staging);

    /// <summary>The store's DRAM budget in bytes (call <see cref="Validate"/> first).</summary>
    public long MemoryBytes => ByteSize.Parse(Memory);

    /// <summary>The largest block in bytes (call <see cref="Validate"/> first).</summary>
    public long MaxBlockBytes => ByteSize.Parse(MaxBlock);

    /// <summary>The SSD tier size in bytes, 0 when there is none (call <see cref="Validate"/> first).</summary>
    public long SsdBytes => SsdSize is null ? 0 : ByteSize.Parse(SsdSize);

    /// <summary>True when this node is part of a cluster (static peers or etcd).</summary>
    public bool IsClustered => Peers.Count > 0 || Etcd is not null;

    /// <summary>The operations endpoint to bind, null when off (call <see cref="Validate"/> first).</summary>
    public IPEndPoint? MetricsEndPoint => Metrics is null ? null
        : HostPort.TryParseListen(Metrics, out var endpoint) ? endpoint : throw new InvalidOperationException(Invalid("Metrics"));

    /// <summary>The address to bind (call <see cref="Validate"/> first).</summary>
    public IPEndPoint ListenEndPoint =>
        HostPort.TryParseListen(Listen, out var endpoint) ? endpoint : throw new InvalidOperationException(Invalid("Listen"));

    /// <summary>Checks every setting; throws <see cref="ArgumentException"/> naming the first bad one and its fix.</summary>
    public void Validate() => ServerOptionsValidator.Validate(this);

    /// <summary>
    /// Settings given for features this node does not have yet (the GPU transfer path), each with the
    /// feature's name: the host warns about them and runs single-node rather than ignoring them silently.
    /// </summary>
    public IReadOnlyList<(ServerSetting Setting, string Feature)> UnavailableSettings()
    {
        var given = new List<(ServerSetting, string)>();
        void Add(bool set, string name, string feature)
        {
            if (set)
            {
                given.Add((ServerSetting.Get(name), feature));
            }
        }

        Add(string.Equals(Accelerator, "cuda", StringComparison.OrdinalIgnoreCase), nameof(Accelerator),
            "the CUDA transfer path (CUDA IPC pools; shared-memory pools use the host path)");
        return given;
    }

    /// <summary>
    /// The store settings these options describe (call <see cref="Validate"/> first). The default quota is given to each
    /// tenant of a key (not to <c>shared</c>, which has a quota only when one is listed for it).
    /// </summary>
    public StoreOptions ToStoreOptions()
    {
        var options = new StoreOptions
        {
            MemoryBytes = MemoryBytes,
            MaxBlockBytes = MaxBlockBytes,
            SsdDirectory = SsdDir,
            SsdBytes = SsdBytes,
            Retention = Retention == "fifo" ? StoreRetention.Fifo : StoreRetention.KvTier,
        };
        options.TenantQuotas = QuotaBytes(StoreLayout.For(options).WindowBytes);
        return options;
    }

    /// <summary>Each tenant's DRAM quota in bytes, percentages taken of <paramref name="windowBytes"/> (call <see cref="Validate"/> first).</summary>
    internal Dictionary<string, long> QuotaBytes(long windowBytes)
    {
        var quotas = Auth.Quotas.ToDictionary(q => q.Key, q => QuotaSize.Parse(q.Value, windowBytes), StringComparer.Ordinal);
        if (Auth.DefaultQuota is { } fallback)
        {
            foreach (var tenant in Auth.Tenants.Where(t => !quotas.ContainsKey(t)))
            {
                quotas[tenant] = QuotaSize.Parse(fallback, windowBytes);
            }
        }

        return quotas;
    }

    private static string Invalid(string name) => $"{ServerSetting.Get(name).Display} is not valid: call Validate() first.";
}
