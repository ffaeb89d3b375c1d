using KvTier.Core;

namespace KvTier.Server;

/// <summary>The checks behind <see cref="ServerOptions.Validate"/>: each message names the setting, the value and the fix.</summary>
internal static partial class ServerOptionsValidator
{
    private const string SizeForms = "write a number with KiB, MiB or GiB (e.g. 256MiB) or a byte count";

    public static void Validate(ServerOptions o) => Validate(o, ProcessMemoryBytes());

    /// <summary>
    /// Validates <paramref name="o"/> for a process that may use <paramref name="processMemoryBytes"/> (0: unknown, not
    /// checked).
    /// </summary>
    internal static void Validate(ServerOptions o, long processMemoryBytes)
    {
        if (!HostPort.TryParseListen(o.Listen ?? "", out _))
        {
            Fail("Listen", o.Listen, "write IP:port, localhost:port or *:port (e.g. 127.0.0.1:50051; port 0 picks a free port)");
        }

        if (string.IsNullOrWhiteSpace(o.NodeId) || o.NodeId.Any(char.IsWhiteSpace))
        {
            Fail("NodeId", o.NodeId, "give a non-empty id without spaces (default: the machine name)");
        }

        if (o.HashSeed is null)
        {
            Fail("HashSeed", o.HashSeed, "give the cluster's hash seed as a string (default \"0\")");
        }

        if (o.BlockTokens <= 0)
        {
            Fail("BlockTokens", o.BlockTokens.ToString(System.Globalization.CultureInfo.InvariantCulture), "give a positive number of tokens per block (vLLM's default is 16)");
        }

        if (Size("Memory", o.Memory, required: true) <= 0)
        {
            Fail("Memory", o.Memory, "give a positive size such as 1GiB");
        }

        var maxBlock = Size("MaxBlock", o.MaxBlock, required: true);
        if (maxBlock <= 0)
        {
            Fail("MaxBlock", o.MaxBlock, "give a positive size such as 64MiB");
        }

        ValidateSsd(o);
        ValidatePlaceholders(o);
        ServerOptionsValidator.Tls(o.Tls);
        ServerOptionsValidator.Auth(o);
        ValidateStore(o);
        ValidateFit(o, processMemoryBytes);
        ValidateSsdFit(o);
    }

    private static void ValidateSsd(ServerOptions o)
    {
        if (o.SsdDir is null && o.SsdSize is not null)
        {
            Fail("SsdSize", o.SsdSize, "also give --ssd-dir DIR, or drop --ssd-size");
        }

        if (o.SsdDir is not null && o.SsdSize is null)
        {
            Fail("SsdDir", o.SsdDir, "also give --ssd-size SIZE (e.g. 16GiB), or drop --ssd-dir");
        }

        if (o.SsdDir is not null && string.IsNullOrWhiteSpace(o.SsdDir))
        {
            Fail("SsdDir", o.SsdDir, "give a directory path");
        }

        if (o.SsdSize is not null && Size("SsdSize", o.SsdSize, required: true) <= 0)
        {
            Fail("SsdSize", o.SsdSize, "give a positive size such as 16GiB");
        }
    }

    // Settings of features not built yet are still checked, so that a config written today keeps working later.
    private static void ValidatePlaceholders(ServerOptions o)
    {
        if (string.IsNullOrWhiteSpace(o.Cluster))
        {
            Fail("Cluster", o.Cluster, "give a cluster name (default kvtier)");
        }

        if (o.Peers.Count > 0 && o.Etcd is not null)
        {
            Fail("Etcd", o.Etcd, "give either --peers (static membership) or --etcd, not both");
        }

        foreach (var peer in o.Peers)
        {
            if (!HostPort.TrySplit(peer, allowPortZero: false, out _, out _))
            {
                Fail("Peers", peer, "list peers as host:port,host:port (e.g. 10.0.0.2:50051)");
            }
        }

        if (o.Etcd is not null && (!Uri.TryCreate(o.Etcd, UriKind.Absolute, out var etcd) || (etcd.Scheme != "http" && etcd.Scheme != "https")))
        {
            Fail("Etcd", o.Etcd, "give an http:// or https:// URL such as http://127.0.0.1:2379");
        }

        if (o.Replicas < 1)
        {
            Fail("Replicas", o.Replicas.ToString(System.Globalization.CultureInfo.InvariantCulture), "give 1 or more copies (default 2)");
        }

        OneOf("WriteAck", o.WriteAck, ServerOptions.WriteAckModes);
        OneOf("Retention", o.Retention, ServerOptions.RetentionModes);
        OneOf("Accelerator", o.Accelerator, ServerOptions.AcceleratorModes);
        Address("DataListen", o.DataListen);
        ValidateMetrics(o);
        ValidateDataPort(o);

        // Checked here, before the store is allocated: the staging arena's unit is its smallest size.
        if (Size("Staging", o.Staging, required: true) < KvTier.Transfer.StagingArena.PageBytes)
        {
            Fail("Staging", o.Staging, $"give at least {ByteSize.Format(KvTier.Transfer.StagingArena.PageBytes)}, such as 256MiB (the default)");
        }

        Size("ScrubRate", o.ScrubRate, required: true); // bytes per second; 0 turns the scrub off
    }

    // The operations endpoint is a listener of its own: an address Kestrel can bind, not the gRPC port.
    private static void ValidateMetrics(ServerOptions o)
    {
        if (o.Metrics is null)
        {
            return;
        }

        if (!HostPort.TryParseListen(o.Metrics, out var metrics))
        {
            Fail("Metrics", o.Metrics, "write IP:port, localhost:port or *:port (e.g. 127.0.0.1:9464; port 0 picks a free port)");
        }

        if (metrics.Port != 0 && HostPort.TryParseListen(o.Listen ?? "", out var listen) && listen.Port == metrics.Port)
        {
            Fail("Metrics", o.Metrics, $"give it another port than --listen ({o.Listen}): metrics are served on a listener of their own");
        }
    }

    // The peer data plane is a listener of its own as well: a port it shares with --listen or --metrics fails to bind
    // at start, reported as an address in use (and, from a cluster's first start, blamed on the wrong flag).
    private static void ValidateDataPort(ServerOptions o)
    {
        if (o.DataListen is null || !HostPort.TrySplit(o.DataListen, allowPortZero: true, out _, out var data) || data == 0)
        {
            return;
        }

        foreach (var (name, value) in (ReadOnlySpan<(string, string?)>)[("Listen", o.Listen), ("Metrics", o.Metrics)])
        {
            if (value is not null && HostPort.TrySplit(value, allowPortZero: true, out _, out var port) && port == data)
            {
                Fail("DataListen", o.DataListen, $"give it another port than {ServerSetting.Get(name).Flag} ({value}): the peer data plane is a listener of its own");
            }
        }
    }

    // The store knows its own floor (pages that hold the largest block, index size); its messages name the flags.
    private static void ValidateStore(ServerOptions o) => o.ToStoreOptions().Validate();

    private static long Size(string name, string? value, bool required)
    {
        if (value is null && !required)
        {
            return 0;
        }

        if (!ByteSize.TryParse(value, out var bytes))
        {
            Fail(name, value, SizeForms);
        }

        return bytes;
    }

    private static void OneOf(string name, string? value, string[] allowed)
    {
        if (value is null || !allowed.Contains(value, StringComparer.Ordinal))
        {
            Fail(name, value, "use one of " + string.Join(", ", allowed));
        }
    }

    private static void Address(string name, string? value)
    {
        if (value is not null && !HostPort.TrySplit(value, allowPortZero: true, out _, out _))
        {
            Fail(name, value, "write host:port (e.g. 127.0.0.1:9464)");
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    internal static void Fail(string name, string? value, string fix) =>
        throw new ArgumentException($"{ServerSetting.Get(name).Display}: '{value}' is not valid: {fix}.");

    /// <summary>Fails without quoting the value (a credential): <paramref name="problem"/> says what is wrong with it.</summary>
    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    internal static void FailSecret(string name, string problem, string fix) =>
        throw new ArgumentException($"{ServerSetting.Get(name).Display}: {problem}: {fix}.");
}
