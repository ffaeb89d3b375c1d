namespace KvTier.Server;

/// <summary>
/// One configurable setting: its name under the <c>KvTier</c> section (JSON key, <c>KVTIER__NAME</c> variable; a name
/// such as <c>Tls:KeyFile</c> lives in a sub-section, <c>KVTIER__TLS__KEYFILE</c>) and its <c>kvtier serve</c> flag.
/// One table, so the config file, the environment and the CLI cannot drift apart.
/// </summary>
/// <param name="Name">Key under the KvTier section, e.g. <c>Memory</c> or <c>Auth:ApiKeys</c>.</param>
/// <param name="Flag">The <c>kvtier serve</c> flag, e.g. <c>--memory</c>; null for maps, which only files and variables set.</param>
/// <param name="Description">What it sets and its default.</param>
/// <param name="IsSecret">True for credentials: <c>config print</c> shows them as <c>***</c>.</param>
public sealed record ServerSetting(string Name, string? Flag, string Description, bool IsSecret = false)
{
    /// <summary>The key as written in messages, e.g. <c>KvTier:Memory</c>.</summary>
    public string Path => ServerOptions.SectionName + ":" + Name;

    /// <summary>The setting and its flag, for error messages: <c>KvTier:Memory (--memory)</c>.</summary>
    public string Display => Flag is null ? Path : $"{Path} ({Flag})";

    /// <summary>The sub-section the setting lives in (<c>Auth</c>, <c>Tls</c>), or null for a setting directly under <c>KvTier</c>.</summary>
    public string? Section => Name.IndexOf(':', StringComparison.Ordinal) is var colon and > 0 ? Name[..colon] : null;

    /// <summary>The name within its section (<c>KeyFile</c> of <c>Tls:KeyFile</c>).</summary>
    public string Key => Section is { } section ? Name[(section.Length + 1)..] : Name;

    /// <summary>Every setting, in the order <c>config print</c> shows them.</summary>
    public static IReadOnlyList<ServerSetting> All { get; } =
    [
        new("Listen", "--listen", "gRPC address host:port (h2c); port 0 picks a free port. Default 127.0.0.1:50051."),
        new("NodeId", "--node-id", "This node's id. Default: the machine name."),
        new("HashSeed", "--hash-seed", "Block-key hash seed (vLLM's PYTHONHASHSEED). Default 0."),
        new("BlockTokens", "--block-tokens", "Tokens per block. Default 16."),
        new("Memory", "--memory", "DRAM budget of the block store (KiB, MiB, GiB). Default 1GiB."),
        new("MaxBlock", "--max-block", "Largest block accepted. Default 64MiB."),
        new("SsdDir", "--ssd-dir", "Directory for the SSD spill tier (with --ssd-size). Default: none."),
        new("SsdSize", "--ssd-size", "Size of the SSD spill tier (with --ssd-dir). Default: none."),
        new("Retention", "--retention", "Which blocks stay in DRAM: kvtier (learned reuse classes) or fifo (oldest first, reads get a second chance). Default kvtier."),
        new("Cluster", "--cluster", "Cluster name; nodes of other clusters are refused. Default kvtier."),
        new("Peers", "--peers", "Static membership: the gRPC host:port of every member (this node's may be listed)."),
        new("Etcd", "--etcd", "etcd URL for membership (instead of --peers)."),
        new("Replicas", "--replicas", "Copies of each block in the cluster. Default 2."),
        new("WriteAck", "--write-ack", "When a put returns: local, one (a peer copy stored) or all (every owner). Default local."),
        new("DataListen", "--data-listen", "Peer data-plane address host:port. Default: the --listen host, a free port."),
        new("ClusterSecret", "--cluster-secret", "Shared secret the peer data plane's handshake proves (HMAC). Default: none.", IsSecret: true),
        new("Accelerator", "--accelerator", "auto|cuda|cpu; shared-memory pools use the host path. Default auto."),
        new("Staging", "--staging", "Pinned staging buffer size. Default 256MiB."),
        new("ScrubRate", "--scrub-rate", "Bytes of stored blocks whose checksums are verified per second in the background (damage is dropped); 0 turns it off. Default 64MiB."),
        new("Metrics", "--metrics", "HTTP endpoint host:port for Prometheus /metrics, /healthz and /readyz; port 0 picks a free port. Default: off."),
        new("Tls:CertificateFile", "--tls-cert", "PEM certificate of the gRPC endpoint (with --tls-key): serve HTTPS (HTTP/2 over TLS) instead of h2c. Default: none."),
        new("Tls:KeyFile", "--tls-key", "PEM private key of --tls-cert. Default: none."),
        new("Tls:CaFile", "--tls-ca", "PEM certificates trusted, besides the system store, for calls to other members over HTTPS. Default: none."),
        new("Auth:ApiKeys", null, "API key -> tenant (file or KVTIER__AUTH__APIKEYS__<key>=<tenant>); with keys every call needs 'authorization: Bearer KEY'. Default: none.", IsSecret: true),
        new("Auth:AdminKeys", null, "Admin key -> tenant: keys that may also write the shared namespace. Default: none.", IsSecret: true),
        new("Auth:Quotas", null, "Tenant -> DRAM quota, a size (2GiB) or a share of the memory window (25%). Default: none."),
        new("Auth:DefaultQuota", "--default-quota", "DRAM quota of each tenant of a key not listed in Auth:Quotas (size or percent). Default: none."),
    ];

    /// <summary>The sub-sections of <c>KvTier</c> (<c>Tls</c>, <c>Auth</c>).</summary>
    public static IReadOnlyList<string> Sections { get; } = [.. All.Select(s => s.Section).OfType<string>().Distinct()];

    /// <summary>Finds a setting by name (case-insensitive, as configuration keys are).</summary>
    public static ServerSetting? Find(string name) =>
        All.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The setting named <paramref name="name"/>; throws for a name not in <see cref="All"/>.</summary>
    internal static ServerSetting Get(string name) =>
        Find(name) ?? throw new InvalidOperationException($"no setting named {name}");
}
