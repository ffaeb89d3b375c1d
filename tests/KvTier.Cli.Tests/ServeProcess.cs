using System.Diagnostics;
using System.Text.RegularExpressions;

namespace KvTier.Cli.Tests;

/// <summary>
/// A real <c>kvtier serve</c> process: started with the given flags and environment, its URL parsed from the first
/// stdout line (which the serve verb promises to print once it listens), killed with its tree on dispose.
/// </summary>
internal sealed partial class ServeProcess : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly Process _process;

    private ServeProcess(Process process) => _process = process;

    public string Url { get; private set; } = "";

    public string FirstLine { get; private set; } = "";

    public string SecondLine { get; private set; } = "";

    public static async Task<ServeProcess> StartAsync(string[] args, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var process = Process.Start(Kvtier.StartInfo(["serve", .. args], environment)) ?? throw new InvalidOperationException("dotnet did not start");
        var serve = new ServeProcess(process);
        // Drain stderr (logs) so the server never blocks on a full pipe.
        _ = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(StartTimeout);
        serve.FirstLine = await process.StandardOutput.ReadLineAsync(timeout.Token)
            ?? throw new InvalidOperationException($"kvtier serve exited ({process.ExitCode}) before printing its address");
        serve.SecondLine = await process.StandardOutput.ReadLineAsync(timeout.Token) ?? "";
        serve.Url = UrlPattern().Match(serve.FirstLine) is { Success: true } m
            ? m.Value
            : throw new InvalidOperationException($"no URL in the first line of kvtier serve: '{serve.FirstLine}'");
        return serve;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    [GeneratedRegex(@"https?://[^\s]+")]
    private static partial Regex UrlPattern();
}
