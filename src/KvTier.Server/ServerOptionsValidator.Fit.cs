using KvTier.Core;

namespace KvTier.Server;

internal static partial class ServerOptionsValidator
{
    /// <summary>Room kept beside the store and staging for the runtime, Kestrel and the cluster's buffers.</summary>
    private const long Headroom = 256L << 20;

    /// <summary>
    /// What this process may use as the .NET GC sees it: the machine's memory, or its container's limit (times the
    /// configured heap-limit percentage). The store's pages are pinned arrays on that heap.
    /// </summary>
    private static long ProcessMemoryBytes() => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    // The spill file grows to --ssd-size as pages leave memory: a filesystem without that much free space would fail
    // puts hours later, so it is refused now. Nothing is created here (config print validates too): the nearest existing
    // directory on the path is the filesystem the store will write to.
    private static void ValidateSsdFit(ServerOptions o)
    {
        if (o.SsdDir is null || o.SsdSize is null)
        {
            return;
        }

        var existing = Path.GetFullPath(o.SsdDir);
        while (!Directory.Exists(existing))
        {
            if (File.Exists(existing))
            {
                Fail("SsdDir", o.SsdDir, $"{existing} is a file: give a directory (it is created when missing)");
            }

            existing = Path.GetDirectoryName(existing) ?? "/";
        }

        var size = ByteSize.Parse(o.SsdSize);
        var free = new DriveInfo(existing).AvailableFreeSpace;
        if (size > free)
        {
            Fail("SsdSize", o.SsdSize,
                $"the filesystem of --ssd-dir {o.SsdDir} has {ByteSize.Format(free)} free: lower --ssd-size to at most that, or free space");
        }
    }

    // The store and the staging buffers are preallocated at start: a budget beyond what the process may use would die
    // of "Out of memory" (or be OOM-killed) while it fills, so it is refused before anything is allocated.
    private static void ValidateFit(ServerOptions o, long processMemoryBytes)
    {
        if (processMemoryBytes <= 0)
        {
            return;
        }

        var staging = ByteSize.Parse(o.Staging);
        var needed = ByteSize.Parse(o.Memory) + staging + Headroom;
        if (needed > processMemoryBytes)
        {
            var most = processMemoryBytes - staging - Headroom;
            var lower = most > 0 ? $"lower --memory to at most {ByteSize.Format(most)}" : "lower --memory and --staging";
            Fail("Memory", o.Memory,
                $"with --staging {o.Staging} and {ByteSize.Format(Headroom)} for the runtime it needs {ByteSize.Format(needed)}, more than the "
                + $"{ByteSize.Format(processMemoryBytes)} this process may use (the machine's memory or its container's limit); the store "
                + $"preallocates its budget, so {lower}, or give the process more memory");
        }
    }
}
