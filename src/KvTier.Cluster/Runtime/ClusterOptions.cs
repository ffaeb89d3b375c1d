namespace KvTier.Cluster.Runtime;

/// <summary>When a put returns (<c>--write-ack</c>).</summary>
public enum WriteAck
{
    /// <summary>Once stored locally; copies follow asynchronously.</summary>
    Local,
    /// <summary>Once at least one copy on another node is stored.</summary>
    One,
    /// <summary>Once every owner has stored its copy.</summary>
    All,
}

/// <summary>Settings of a node's cluster runtime.</summary>
public sealed class ClusterOptions
{
    /// <summary>Copies of each block in the cluster (default 2).</summary>
    public int Replicas { get; set; } = 2;

    /// <summary>When a put returns (default local).</summary>
    public WriteAck WriteAck { get; set; } = WriteAck.Local;

    /// <summary>Blocks waiting for asynchronous replication; a full queue slows writers (default 4096).</summary>
    public int ReplicationQueue { get; set; } = 4096;

    /// <summary>First hedge delay before the p95 of fetches is known (default 20 ms).</summary>
    public TimeSpan InitialHedgeDelay { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Rate of re-replication after a member leaves, in bytes per second (default 256 MiB/s).</summary>
    public long RepairBytesPerSecond { get; set; } = 256L << 20;

    /// <summary>Deadline of one remote fetch or exists request (default 5 s).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Parses local, one or all.</summary>
    public static WriteAck ParseWriteAck(string text) => text.ToLowerInvariant() switch
    {
        "local" => WriteAck.Local,
        "one" => WriteAck.One,
        "all" => WriteAck.All,
        _ => throw new FormatException($"'{text}' is not a write-ack mode: use local, one or all."),
    };
}
