namespace KvTier.Cli.Tests;

/// <summary>
/// A real <c>kvtier serve</c> process on a free loopback port, shared by the CLI tests. Its URL is parsed from the
/// first stdout line, which the serve verb promises to print once it listens.
/// </summary>
public sealed class ServeFixture : IAsyncLifetime
{
    private ServeProcess? _serve;

    public string Url => _serve!.Url;

    public string FirstLine => _serve!.FirstLine;

    public string SecondLine => _serve!.SecondLine;

    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("kvtier-cli-").FullName;

    public async Task InitializeAsync() =>
        _serve = await ServeProcess.StartAsync(["--listen", "127.0.0.1:0", "--memory", "64MiB", "--max-block", "4MiB", "--staging", "16MiB", "--node-id", "cli-test"]);

    public Task DisposeAsync()
    {
        _serve?.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
        return Task.CompletedTask;
    }

    public string PathFor(string name) => Path.Combine(Directory, name);
}

[CollectionDefinition(Name)]
public sealed class ServeCollection : ICollectionFixture<ServeFixture>
{
    public const string Name = "serve";
}
