namespace KvTier.Policy;

/// <summary>Where cached blocks can be read from.</summary>
public enum SourceKind
{
    /// <summary>This node's DRAM tier.</summary>
    LocalDram,
    /// <summary>This node's SSD spill tier.</summary>
    LocalSsd,
    /// <summary>Another node's DRAM tier, over the peer data plane.</summary>
    Peer,
}

/// <summary>
/// One place blocks can be fetched from: the local DRAM tier, the local SSD tier, or a peer by node id.
/// The cost model learns one link per source.
/// </summary>
public readonly record struct FetchSource
{
    private FetchSource(SourceKind kind, string? peerId)
    {
        Kind = kind;
        PeerId = peerId;
    }

    /// <summary>The local DRAM tier.</summary>
    public static FetchSource LocalDram { get; } = new(SourceKind.LocalDram, null);

    /// <summary>The local SSD tier.</summary>
    public static FetchSource LocalSsd { get; } = new(SourceKind.LocalSsd, null);

    /// <summary>What kind of source this is.</summary>
    public SourceKind Kind { get; }

    /// <summary>The peer's node id (only for <see cref="SourceKind.Peer"/>).</summary>
    public string? PeerId { get; }

    /// <summary>A peer, by node id.</summary>
    public static FetchSource Peer(string nodeId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(nodeId);
        return new FetchSource(SourceKind.Peer, nodeId);
    }

    /// <summary>"dram", "ssd" or "peer:ID", as plans and logs print it.</summary>
    public override string ToString() => Kind switch
    {
        SourceKind.LocalDram => "dram",
        SourceKind.LocalSsd => "ssd",
        _ => $"peer:{PeerId}",
    };
}
