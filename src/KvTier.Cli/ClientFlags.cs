using System.CommandLine;
using Grpc.Core;
using KvTier.Client;

namespace KvTier.Cli;

/// <summary>The flags every client verb takes (<c>--server</c>, <c>--api-key</c>) and the call wrapper that maps errors.</summary>
internal sealed class ClientFlags
{
    /// <summary>Environment variable read when <c>--api-key</c> is not given.</summary>
    public const string ApiKeyVariable = "KVTIER_API_KEY";

    private readonly Option<string> _server = new("--server")
    {
        Description = "The sidecar's address, e.g. http://127.0.0.1:50051.",
        Required = true,
    };

    private readonly Option<string?> _apiKey = new("--api-key")
    {
        Description = $"API key sent as a bearer token (default: ${ApiKeyVariable}).",
    };

    public ClientFlags(Command command)
    {
        command.Options.Add(_server);
        command.Options.Add(_apiKey);
    }

    /// <summary>Connects and runs <paramref name="body"/>; gRPC failures become the contract's exit codes.</summary>
    public async Task<int> RunAsync(ParseResult parse, Func<KvTierClient, Task<int>> body)
    {
        var server = ParseServer(parse.GetRequiredValue(_server));
        var apiKey = parse.GetValue(_apiKey) ?? Environment.GetEnvironmentVariable(ApiKeyVariable);
        using var client = new KvTierClient(server, apiKey);
        try
        {
            return await body(client).ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            return CliApp.FromRpc(e, server);
        }
    }

    /// <summary>Accepts <c>http://host:port</c>, <c>https://host:port</c> or a bare <c>host:port</c> (taken as http).</summary>
    public static Uri ParseServer(string text)
    {
        var withScheme = text.Contains("://", StringComparison.Ordinal) ? text : "http://" + text;
        return Uri.TryCreate(withScheme, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            && uri.Host.Length > 0
            ? uri
            : throw new UsageException($"--server '{text}' is not a server address: give http://host:port (e.g. http://127.0.0.1:50051).");
    }
}
