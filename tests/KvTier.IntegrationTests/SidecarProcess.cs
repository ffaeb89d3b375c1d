using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace KvTier.IntegrationTests;

/// <summary>A real <c>kvtier serve</c> process (the built kvtier.dll run with dotnet), killed on dispose.</summary>
internal sealed class SidecarProcess : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();

    private SidecarProcess(Process process, string listen)
    {
        _process = process;
        Address = new Uri("http://" + listen);
        process.ErrorDataReceived += (_, e) =>
        {
            lock (_stderr)
            {
                _stderr.AppendLine(e.Data);
            }
        };
        process.BeginErrorReadLine();
    }

    public Uri Address { get; }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string Logs
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>Starts a sidecar on <paramref name="listen"/> and waits until it prints where it listens.</summary>
    public static async Task<SidecarProcess> StartAsync(string listen, params string[] args)
    {
        var process = Launch(listen, args);
        var sidecar = new SidecarProcess(process, listen);
        using var timeout = new CancellationTokenSource(StartTimeout);
        var first = await process.StandardOutput.ReadLineAsync(timeout.Token);
        _ = process.StandardOutput.ReadToEndAsync(); // keep the pipe drained
        if (first is null)
        {
            await process.WaitForExitAsync(timeout.Token);
            throw new InvalidOperationException($"kvtier serve exited with {process.ExitCode} before listening:\n{sidecar.Logs}");
        }

        return sidecar;
    }

    /// <summary>
    /// Starts <paramref name="count"/> clustered sidecars that know each other's endpoints; <paramref name="argsFor"/>
    /// gives node i's flags from every node's gRPC endpoint. Every port (gRPC and data plane) is chosen before any node
    /// starts, so no node's port-0 bind can take a port another is about to use; a port another process takes in between
    /// (tests run in parallel) is retried with fresh ports.
    /// </summary>
    public static async Task<(string[] Endpoints, SidecarProcess[] Nodes)> StartClusterAsync(int count, Func<int, string[], string[]> argsFor)
    {
        for (var attempt = 1; ; attempt++)
        {
            var endpoints = Enumerable.Range(0, count).Select(_ => FreeEndpoint()).ToArray();
            var data = Enumerable.Range(0, count).Select(_ => FreeEndpoint()).ToArray();
            var starts = endpoints.Select((e, i) => StartAsync(e, [.. argsFor(i, endpoints), "--data-listen", data[i]])).ToArray();
            try
            {
                return (endpoints, await Task.WhenAll(starts));
            }
            catch (InvalidOperationException e) when (attempt < 3 && e.Message.Contains("address already in use", StringComparison.Ordinal))
            {
                foreach (var start in starts.Where(t => t.IsCompletedSuccessfully))
                {
                    start.Result.Dispose();
                }
            }
        }
    }

    /// <summary>Runs a sidecar that is expected to refuse to start; returns its exit code and stderr.</summary>
    public static async Task<(int ExitCode, string StdErr)> RunToExitAsync(string listen, params string[] args)
    {
        var sidecar = await StartOrExitAsync(listen, args);
        using var timeout = new CancellationTokenSource(StartTimeout);
        await sidecar._process.WaitForExitAsync(timeout.Token);
        await Task.Delay(100); // let the last stderr lines arrive
        return (sidecar._process.ExitCode, sidecar.Logs);
    }

    /// <summary>kill -9: no shutdown, no lease revoke, no goodbye.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Kill();
        }

        _process.Dispose();
    }

    public static string FreeEndpoint()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return $"127.0.0.1:{((IPEndPoint)socket.LocalEndPoint!).Port}";
    }

    private static Task<SidecarProcess> StartOrExitAsync(string listen, string[] args)
    {
        var process = Launch(listen, args);
        _ = process.StandardOutput.ReadToEndAsync();
        return Task.FromResult(new SidecarProcess(process, listen));
    }

    // `dotnet kvtier.dll serve` with a small store, as every test node runs.
    private static Process Launch(string listen, string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "kvtier.dll"));
        foreach (var arg in (string[])["serve", "--listen", listen, "--memory", "64MiB", "--max-block", "1MiB", "--staging", "1MiB", .. args])
        {
            info.ArgumentList.Add(arg);
        }

        return Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start");
    }
}
