using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace KvTier.Bench;

/// <summary>
/// A child process of the benchmark (a sidecar, redis-server). Both output streams are drained (a full pipe would stall
/// the child) and their last lines kept for error messages. Disposing kills it with its tree and waits until it is gone.
/// </summary>
internal sealed class NetChildProcess : IAsyncDisposable
{
    private const int KeptLines = 20;
    private static readonly TimeSpan ExitWait = TimeSpan.FromSeconds(10);

    private readonly Process _process;
    private readonly Queue<string> _lines = new();
    private readonly TaskCompletionSource<string?> _firstLine = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _disposed;

    private NetChildProcess(string name, Process process)
    {
        Name = name;
        _process = process;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                _firstLine.TrySetResult(null);
                return;
            }

            _firstLine.TrySetResult(e.Data);
            Keep(e.Data);
        };
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
    }

    /// <summary>What this child is, for messages (e.g. "sidecar net-a").</summary>
    public string Name { get; }

    /// <summary>The child's process id.</summary>
    public int Id => _process.Id;

    /// <summary>True once the child has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>CPU time the child has used so far (user + system).</summary>
    public TimeSpan CpuTime
    {
        get
        {
            try
            {
                _process.Refresh();
                return _process.TotalProcessorTime;
            }
            catch (InvalidOperationException)
            {
                return TimeSpan.Zero; // exited: a measurement that needs it fails on its own
            }
        }
    }

    /// <summary>Starts <paramref name="fileName"/> with <paramref name="arguments"/>; KVTIER* variables of this process are not passed on.</summary>
    public static NetChildProcess Start(string name, string fileName, IEnumerable<string> arguments, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        // The children run on the settings the benchmark gives them, not on whatever this shell exports.
        foreach (var variable in info.Environment.Keys.Where(k => k.StartsWith("KVTIER", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            info.Environment.Remove(variable);
        }

        Process process;
        try
        {
            process = Process.Start(info) ?? throw new NetBenchException($"{name}: {fileName} did not start.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new NetBenchException($"{name}: cannot start {fileName}: {e.Message}.");
        }

        var child = new NetChildProcess(name, process);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>The first line the child writes to stdout; fails when it exits first or <paramref name="timeout"/> passes.</summary>
    public async Task<string> FirstLineAsync(TimeSpan timeout, CancellationToken ct)
    {
        try
        {
            return await _firstLine.Task.WaitAsync(timeout, ct).ConfigureAwait(false) ?? throw Failed("closed its output before printing a line");
        }
        catch (TimeoutException)
        {
            throw Failed($"printed nothing within {timeout.TotalSeconds:0} s");
        }
    }

    /// <summary>An exception naming this child, what went wrong, its exit code if any and its last output lines.</summary>
    public NetBenchException Failed(string what)
    {
        string tail;
        lock (_lines)
        {
            tail = _lines.Count == 0 ? "" : " Last output: " + string.Join(" | ", _lines);
        }

        var exit = _process.HasExited ? $" (exited with code {_process.ExitCode})" : "";
        return new NetBenchException($"{Name} {what}{exit}.{tail}");
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            using var wait = new CancellationTokenSource(ExitWait);
            await _process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidOperationException or OperationCanceledException or System.ComponentModel.Win32Exception)
        {
            // Already gone, or it did not die within the wait: nothing more a benchmark can do about it.
        }
        finally
        {
            _process.Dispose();
        }
    }

    /// <summary>Free loopback ports, found by binding port 0 (held together, so they differ, then released).</summary>
    public static int[] FreeLoopbackPorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToArray();
        try
        {
            foreach (var listener in listeners)
            {
                listener.Start();
            }

            return listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        }
        finally
        {
            foreach (var listener in listeners)
            {
                listener.Stop();
            }
        }
    }

    private void Keep(string? line)
    {
        if (string.IsNullOrWhiteSpace(line))
        {
            return;
        }

        lock (_lines)
        {
            _lines.Enqueue(line);
            if (_lines.Count > KeptLines)
            {
                _lines.Dequeue();
            }
        }
    }
}

/// <summary>The network benchmark could not run (a child failed to start, a fetch came back incomplete).</summary>
public sealed class NetBenchException : Exception
{
    /// <summary>Creates the exception.</summary>
    public NetBenchException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public NetBenchException(string message, Exception inner)
        : base(message, inner)
    {
    }

    /// <summary>Creates the exception.</summary>
    public NetBenchException()
    {
    }
}
