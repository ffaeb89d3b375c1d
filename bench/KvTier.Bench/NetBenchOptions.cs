using KvTier.Core;
using KvTier.Store;

namespace KvTier.Bench;

/// <summary>Settings of <c>kvtier bench net</c>.</summary>
public sealed class NetBenchOptions
{
    /// <summary>Where <c>make test</c> / <c>make bench</c> install redis-server (Debian package).</summary>
    public const string DefaultRedisServer = "/usr/bin/redis-server";

    /// <summary>How to start a <c>kvtier</c> sidecar (the same executable that runs the benchmark). Required.</summary>
    public NetSidecarCommand? Sidecar { get; set; }

    /// <summary>Block geometry (default llama-3.1-8b: 2 MiB blocks).</summary>
    public string Model { get; set; } = "llama-3.1-8b";

    /// <summary>Distinct blocks stored on node A, in redis and in the socket server; each path fetches all of them per pass (default 256 = 512 MiB).</summary>
    public int Blocks { get; set; } = 256;

    /// <summary>Connections every path uses at once (default 4).</summary>
    public int Connections { get; set; } = 4;

    /// <summary>Blocks requested at once on each connection: keys per data-plane request, concurrent calls otherwise (default 16).</summary>
    public int BatchKeys { get; set; } = 16;

    /// <summary>Times each measurement fetches every block, so that one lasts long enough to time (default 4: 2 GiB per path per pass).</summary>
    public int Rounds { get; set; } = 4;

    /// <summary>Measured passes; the median is reported (default 3).</summary>
    public int Passes { get; set; } = 3;

    /// <summary>One-block fetches timed for the latency percentiles (default 300).</summary>
    public int LatencySamples { get; set; } = 300;

    /// <summary>
    /// Untimed warm-up of each path, at least one round (default 3 s): connections open and tiered JIT settles in this
    /// process and in the sidecars, so that background compilation does not run during another path's measurement.
    /// <see cref="TimeSpan.Zero"/> skips it.
    /// </summary>
    public TimeSpan WarmUp { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary><c>--memory</c> of each sidecar (default 1GiB); must hold <see cref="Blocks"/>.</summary>
    public string SidecarMemory { get; set; } = "1GiB";

    /// <summary><c>--max-block</c> of each sidecar (default 4MiB).</summary>
    public string SidecarMaxBlock { get; set; } = "4MiB";

    /// <summary><c>--staging</c> of each sidecar (default 16MiB).</summary>
    public string SidecarStaging { get; set; } = "16MiB";

    /// <summary>The redis-server executable (default <see cref="DefaultRedisServer"/>).</summary>
    public string RedisServer { get; set; } = DefaultRedisServer;

    /// <summary>Time each child process has to start and the sidecars to see each other up (default 60 s).</summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Called with the process id of every child started (sidecars, redis-server): tests check they are gone.</summary>
    internal Action<int>? ChildStarted { get; set; }

    /// <summary>Geometry of <see cref="Model"/>.</summary>
    public ModelGeometry Geometry => ModelPreset.Get(Model).Geometry;

    /// <summary>Block payload bytes.</summary>
    public int BlockBytes => checked((int)Geometry.BytesPerBlock);

    /// <summary>Requests of <see cref="BatchKeys"/> blocks that cover <see cref="Blocks"/>.</summary>
    public int Batches => (Blocks + BatchKeys - 1) / BatchKeys;

    /// <summary>Throws <see cref="ArgumentException"/> naming a bad setting and the fix.</summary>
    public void Validate()
    {
        if (Sidecar is null)
        {
            throw new ArgumentException("no sidecar command: set NetBenchOptions.Sidecar (the kvtier executable).");
        }

        if (Blocks < 1 || Rounds < 1 || Passes < 1 || LatencySamples < 1 || Connections is < 1 or > 64 || BatchKeys is < 1 or > 1024)
        {
            throw new ArgumentException(
                $"--blocks {Blocks} (≥ 1), --rounds {Rounds} (≥ 1), --passes {Passes} (≥ 1), --samples {LatencySamples} (≥ 1), --connections {Connections} (1–64) and --batch {BatchKeys} (1–1024) must all be in range.");
        }

        if (Batches < Connections)
        {
            throw new ArgumentException(
                $"--blocks {Blocks} in requests of --batch {BatchKeys} make {Batches} requests, fewer than --connections {Connections}: some connections would sit idle; raise --blocks or lower --batch.");
        }

        if ((long)Blocks * BlockBytes > Array.MaxLength)
        {
            throw new ArgumentException($"--blocks {Blocks} of {ByteSize.Format(BlockBytes)} exceed 2 GiB of source memory: lower --blocks.");
        }

        var memory = Size("memory", SidecarMemory);
        var maxBlock = Size("max block", SidecarMaxBlock);
        _ = Size("staging", SidecarStaging);
        if (BlockBytes > maxBlock)
        {
            throw new ArgumentException($"blocks of {ByteSize.Format(BlockBytes)} exceed the sidecars' --max-block {SidecarMaxBlock}: raise it.");
        }

        // Every block fetched must still be in node A's DRAM window; keep one page of slack.
        var layout = StoreLayout.For(new StoreOptions { MemoryBytes = memory, MaxBlockBytes = maxBlock });
        var resident = (layout.WindowPages - 1) * layout.RecordsPerPage(BlockBytes);
        if (Blocks > resident)
        {
            throw new ArgumentException(
                $"--blocks {Blocks} do not fit in a sidecar's --memory {SidecarMemory} (it holds {resident} blocks of {ByteSize.Format(BlockBytes)}): lower --blocks or raise the memory.");
        }
    }

    private static long Size(string what, string text) =>
        ByteSize.TryParse(text, out var bytes) && bytes > 0 ? bytes : throw new ArgumentException($"sidecar {what} '{text}' is not a size: write e.g. 1GiB.");
}

/// <summary>How to start the <c>kvtier</c> executable: a file and the arguments before the verb (the dll when run by <c>dotnet</c>).</summary>
public sealed record NetSidecarCommand(string FileName, IReadOnlyList<string> LeadingArguments)
{
    /// <summary>
    /// The executable this process runs: itself (<see cref="Environment.ProcessPath"/>), or, when that is the
    /// <c>dotnet</c> host, <c>dotnet <paramref name="cliAssemblyPath"/></c>.
    /// </summary>
    public static NetSidecarCommand ForCurrentProcess(string cliAssemblyPath)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("the path of this executable is unknown.");
        return string.Equals(Path.GetFileNameWithoutExtension(self), "dotnet", StringComparison.OrdinalIgnoreCase)
            ? new NetSidecarCommand(self, [cliAssemblyPath])
            : new NetSidecarCommand(self, []);
    }
}
