using System.CommandLine;
using Grpc.Core;
using KvTier.Client;

namespace KvTier.Cli;

/// <summary>
/// The flags every client verb takes (<c>--server</c>, <c>--api-key</c>, <c>--ca-file</c>, <c>--namespace</c>) and the call
/// wrapper that maps errors.
/// </summary>
internal sealed class ClientFlags
{
    /// <summary>Environment variable read when <c>--api-key</c> is not given.</summary>
    public const string ApiKeyVariable = "KVTIER_API_KEY";

    /// <summary>Environment variable read when <c>--ca-file</c> is not given.</summary>
    public const string CaFileVariable = "KVTIER_CA_FILE";

    private readonly Option<string> _server = new("--server")
    {
        Description = "The sidecar's address, e.g. http://127.0.0.1:50051 (https:// for a sidecar serving TLS).",
        Required = true,
    };

    private readonly Option<string?> _apiKey = new("--api-key")
    {
        Description = $"API key sent as a bearer token (default: ${ApiKeyVariable}).",
    };

    private readonly Option<string?> _caFile = new("--ca-file")
    {
        Description = $"PEM certificates trusted for an https:// server besides the system store (default: ${CaFileVariable}).",
    };

    private readonly Option<string?> _namespace = new("--namespace")
    {
        Description = "Namespace to work in: 'shared' reads public prefixes and, with an admin key, writes them (default: the key's tenant, reads falling back to shared).",
    };

    public ClientFlags(Command command)
    {
        command.Options.Add(_server);
        command.Options.Add(_apiKey);
        command.Options.Add(_caFile);
        command.Options.Add(_namespace);
    }

    /// <summary>Connects and runs <paramref name="body"/>; gRPC failures become the contract's exit codes.</summary>
    public async Task<int> RunAsync(ParseResult parse, Func<KvTierClient, Task<int>> body)
    {
        var server = ParseServer(parse.GetRequiredValue(_server));
        var options = new KvTierClientOptions
        {
            ApiKey = parse.GetValue(_apiKey) ?? Environment.GetEnvironmentVariable(ApiKeyVariable),
            Namespace = parse.GetValue(_namespace),
        };
        if ((parse.GetValue(_caFile) ?? Environment.GetEnvironmentVariable(CaFileVariable)) is { Length: > 0 } caFile)
        {
            try
            {
                options.TrustPemFile(caFile);
            }
            catch (ArgumentException e)
            {
                throw UsageException.From(e, "--ca-file: ");
            }
        }

        using var client = new KvTierClient(server, options);
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
            : throw new UsageException($"--server '{text}' is not a server address: give http://host:port or https://host:port (e.g. http://127.0.0.1:50051).");
    }
}
