using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using dotnet_etcd;

namespace KvTier.Cluster.Tests;

/// <summary>
/// A real, single-node etcd (<c>/usr/bin/etcd</c>, Debian package <c>etcd-server</c>) on two free loopback ports with a
/// temporary data directory; killed and deleted on dispose. Fails (never skips) when etcd is not installed.
/// </summary>
public sealed class EtcdFixture : IAsyncLifetime, IAsyncDisposable
{
    public const string EtcdPath = "/usr/bin/etcd";

    private static readonly TimeSpan HealthDeadline = TimeSpan.FromSeconds(30);
    private readonly ConcurrentQueue<string> _output = new();
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "kvtier-etcd-" + Guid.NewGuid().ToString("N"));
    private Process? _process;
    private int _clientPort;
    private int _peerPort;

    /// <summary>The client URL, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public string Url => $"http://127.0.0.1:{_clientPort}";

    public async Task InitializeAsync()
    {
        if (!File.Exists(EtcdPath))
        {
            throw new InvalidOperationException($"{EtcdPath} not found: the etcd membership tests need a real etcd. Run `make test`, "
                + "which installs the Debian package etcd-server (or install it yourself: apt-get install etcd-server).");
        }

        // A free port can be taken between probing and etcd binding it: try fresh ports a few times.
        for (var attempt = 1; ; attempt++)
        {
            _clientPort = FreePort();
            _peerPort = FreePort();
            try
            {
                await StartAsync();
                return;
            }
            catch (EtcdStartException) when (attempt < 3 && _output.Any(l => l.Contains("address already in use", StringComparison.Ordinal)))
            {
                Kill();
                if (Directory.Exists(_dataDir))
                {
                    Directory.Delete(_dataDir, recursive: true);
                }
            }
        }
    }

    /// <summary>A client for checking keys directly (dispose it).</summary>
    public EtcdClient NewClient() => new(Url);

    /// <summary>Kills etcd (like a crash) and keeps its data directory for <see cref="RestartAsync"/>.</summary>
    public Task StopAsync()
    {
        Kill();
        return Task.CompletedTask;
    }

    /// <summary>Starts etcd again on the same ports and data directory.</summary>
    public Task RestartAsync() => StartAsync();

    public async Task DisposeAsync()
    {
        await StopAsync();
        for (var attempt = 0; attempt < 5 && Directory.Exists(_dataDir); attempt++)
        {
            try
            {
                Directory.Delete(_dataDir, recursive: true);
            }
            catch (IOException) when (attempt < 4)
            {
                await Task.Delay(100);
            }
        }
    }

    ValueTask IAsyncDisposable.DisposeAsync() => new(DisposeAsync());

    /// <summary>A loopback port that was free a moment ago (bound to port 0, then released).</summary>
    public static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    private async Task StartAsync()
    {
        _output.Clear();
        var peer = $"http://127.0.0.1:{_peerPort}";
        var info = new ProcessStartInfo(EtcdPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
        {
            "--name", "default", "--data-dir", _dataDir,
            "--listen-client-urls", Url, "--advertise-client-urls", Url,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", $"default={peer}",
            "--logger", "zap", "--log-level", "warn",
        })
        {
            info.ArgumentList.Add(arg);
        }

        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        await WaitHealthyAsync(process);
    }

    private async Task WaitHealthyAsync(Process process)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
        var deadline = Stopwatch.StartNew();
        var last = "no answer yet";
        while (deadline.Elapsed < HealthDeadline)
        {
            if (process.HasExited)
            {
                throw new EtcdStartException($"etcd exited with code {process.ExitCode} before it was healthy:\n{Tail()}");
            }

            try
            {
                last = await http.GetStringAsync($"{Url}/health");
                if (last.Contains("\"health\":\"true\"", StringComparison.Ordinal))
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                last = e.Message;
            }

            await Task.Delay(50);
        }

        Kill();
        throw new EtcdStartException($"etcd at {Url} was not healthy within {HealthDeadline.TotalSeconds} s (last /health: {last}):\n{Tail()}");
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        while (_output.Count > 200 && _output.TryDequeue(out _))
        {
        }
    }

    private string Tail() => string.Join('\n', _output.TakeLast(20));

    private void Kill()
    {
        var process = _process;
        _process = null;
        if (process is null)
        {
            return;
        }

        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        finally
        {
            process.Dispose();
        }
    }

    private sealed class EtcdStartException(string message) : Exception(message);
}
