using System.Diagnostics;
using System.Text.RegularExpressions;

namespace KvTier.Cli.Tests;

/// <summary>
/// A real <c>kvtier serve</c> process on a free loopback port, shared by the CLI tests. Its URL is parsed from the
/// first stdout line, which the serve verb promises to print once it listens.
/// </summary>
public sealed partial class ServeFixture : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private Process? _process;

    public string Url { get; private set; } = "";

    public string FirstLine { get; private set; } = "";

    public string SecondLine { get; private set; } = "";

    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("kvtier-cli-").FullName;

    public async Task InitializeAsync()
    {
        _process = Process.Start(Kvtier.StartInfo(["serve", "--listen", "127.0.0.1:0", "--memory", "64MiB", "--max-block", "4MiB", "--staging", "16MiB", "--node-id", "cli-test"]))
            ?? throw new InvalidOperationException("dotnet did not start");
        // Drain stderr (logs) so the server never blocks on a full pipe.
        _ = _process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(StartTimeout);
        FirstLine = await _process.StandardOutput.ReadLineAsync(timeout.Token)
            ?? throw new InvalidOperationException($"kvtier serve exited ({_process.ExitCode}) before printing its address");
        SecondLine = await _process.StandardOutput.ReadLineAsync(timeout.Token) ?? "";
        Url = UrlPattern().Match(FirstLine) is { Success: true } m
            ? m.Value
            : throw new InvalidOperationException($"no URL in the first line of kvtier serve: '{FirstLine}'");
    }

    public Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process?.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
        return Task.CompletedTask;
    }

    public string PathFor(string name) => Path.Combine(Directory, name);

    [GeneratedRegex(@"http://[^\s]+")]
    private static partial Regex UrlPattern();
}

[CollectionDefinition(Name)]
public sealed class ServeCollection : ICollectionFixture<ServeFixture>
{
    public const string Name = "serve";
}
