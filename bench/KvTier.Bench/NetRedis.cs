using System.Net.Sockets;
using StackExchange.Redis;

namespace KvTier.Bench;

/// <summary>
/// A throwaway <c>redis-server</c> on a loopback port (no persistence, no eviction) and one
/// <see cref="ConnectionMultiplexer"/> per connection: a multiplexer pipelines everything over one socket, so N
/// connections take N multiplexers.
/// </summary>
internal sealed class NetRedis : IAsyncDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    private readonly NetChildProcess _server;
    private readonly string _directory;
    private readonly int _port;
    private ConnectionMultiplexer[] _connections = [];

    private NetRedis(NetChildProcess server, string directory, int port)
    {
        _server = server;
        _directory = directory;
        _port = port;
    }

    /// <summary>The redis-server process.</summary>
    public NetChildProcess Server => _server;

    /// <summary>Starts redis-server; fails with the fix when it is not installed.</summary>
    public static NetRedis Start(NetBenchOptions options, int port)
    {
        if (!File.Exists(options.RedisServer))
        {
            throw new NetBenchException(
                $"{options.RedisServer} is missing: the net benchmark compares against redis-server; run `make bench` (it installs the Debian package redis-server) or apt-get install redis-server.");
        }

        var directory = Directory.CreateTempSubdirectory("kvtier-bench-redis-").FullName;
        var server = NetChildProcess.Start("redis-server", options.RedisServer,
            ["--save", "", "--appendonly", "no", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
                "--maxmemory-policy", "noeviction", "--dir", directory], directory);
        options.ChildStarted?.Invoke(server.Id);
        return new NetRedis(server, directory, port);
    }

    /// <summary>Waits until redis accepts connections, then opens <paramref name="connections"/> multiplexers.</summary>
    public async Task ConnectAsync(int connections, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", _port, ct).ConfigureAwait(false);
                break;
            }
            catch (SocketException) when (!_server.HasExited && DateTime.UtcNow < deadline)
            {
                await Task.Delay(PollInterval, ct).ConfigureAwait(false);
            }
            catch (SocketException)
            {
                throw _server.Failed(_server.HasExited ? "stopped before accepting connections" : $"did not accept connections within {timeout.TotalSeconds:0} s");
            }
        }

        var config = new ConfigurationOptions
        {
            EndPoints = { { "127.0.0.1", _port } },
            AbortOnConnectFail = true,
            ConnectTimeout = 10_000,
            SyncTimeout = 60_000,
            AsyncTimeout = 60_000,
            ClientName = "kvtier-bench",
        };
        _connections = await Task.WhenAll(Enumerable.Range(0, connections).Select(_ => ConnectionMultiplexer.ConnectAsync(config))).ConfigureAwait(false);
    }

    /// <summary>The database behind connection <paramref name="connection"/>.</summary>
    public IDatabase Database(int connection) => _connections[connection].GetDatabase();

    /// <summary>SETs every block (a few in flight per connection).</summary>
    public async Task FillAsync(NetBlocks blocks, IProgress<BenchProgress>? progress, CancellationToken ct)
    {
        var perRound = _connections.Length * 4;
        for (var start = 0; start < blocks.Count; start += perRound)
        {
            ct.ThrowIfCancellationRequested();
            await Task.WhenAll(Enumerable.Range(start, Math.Min(perRound, blocks.Count - start)).Select(async i =>
            {
                var stored = await Database(i % _connections.Length).StringSetAsync(RedisKeyOf(blocks, i), blocks.Block(i)).ConfigureAwait(false);
                if (!stored)
                {
                    throw _server.Failed($"refused SET of block {i}");
                }
            })).ConfigureAwait(false);
            progress?.Report(new BenchProgress("fill redis (SET)", (double)(start + perRound) / blocks.Count));
        }
    }

    /// <summary>The redis key of block <paramref name="i"/>: the block key's bytes.</summary>
    public static RedisKey RedisKeyOf(NetBlocks blocks, int i) => blocks.Keys[i].AsSpan().ToArray();

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        foreach (var connection in _connections)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }

        await _server.DisposeAsync().ConfigureAwait(false);
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover empty temp directory is harmless.
        }
    }
}
