using System.CommandLine;
using KvTier.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace KvTier.Cli.Commands;

/// <summary><c>kvtier serve</c>: runs one sidecar until Ctrl+C or SIGTERM.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var command = new Command("serve", "Run the sidecar: a block store served over gRPC (h2c).");
        var flags = new ServeFlags(command);
        command.SetAction((parse, ct) => RunAsync(flags.Bind(parse), ct));
        return command;
    }

    private static async Task<int> RunAsync(ServerOptions options, CancellationToken ct)
    {
        using var loggerFactory = CreateLoggerFactory();
        KvTierServer server;
        try
        {
            server = await KvTierServer.StartAsync(options, loggerFactory, ct).ConfigureAwait(false);
        }
        catch (EndpointBindException e)
        {
            return CliApp.Fail(ExitCodes.Failure, $"{e.Message} Free that address or pick another {e.Setting.Flag} (port 0 picks a free one).");
        }
        catch (Exception e) when (e is KvTier.Cluster.Membership.EtcdUnavailableException or KvTier.Cluster.Membership.SeedMismatchException)
        {
            // Their messages say what to do (start etcd, fix the URL, or run every node with one --hash-seed).
            return CliApp.Fail(ExitCodes.Failure, e.Message);
        }

        await using (server.ConfigureAwait(false))
        {
            // stdout carries exactly these lines (logs go to stderr): tests and scripts parse the URL from the first one.
            var address = server.Address.GetLeftPart(UriPartial.Authority);
            Console.Out.WriteLine($"kvtier listening on {address} (node {options.NodeId}, memory {options.Memory}, max block {options.MaxBlock})");
            Console.Out.WriteLine($"try: {Example(address, options)}");
            await Task.WhenAny(server.WaitForShutdownAsync(), Task.Delay(Timeout.Infinite, ct)).ConfigureAwait(false);
        }

        return ExitCodes.Ok;
    }

    // One full block of tokens, hashed the way this server's clients must hash, then looked up (answers 0 on a fresh node).
    private static string Example(string address, ServerOptions options)
    {
        var tokens = string.Join(',', Enumerable.Range(1, options.BlockTokens));
        var hashFlags = (options.BlockTokens == 16 ? "" : $" --block-tokens {options.BlockTokens}")
            + (options.HashSeed == "0" ? "" : $" --seed '{options.HashSeed}'");
        return $"kvtier hash --tokens {tokens}{hashFlags} | xargs -I{{}} kvtier lookup --server {address} --keys {{}}";
    }

    private static ILoggerFactory CreateLoggerFactory() => LoggerFactory.Create(logging =>
    {
        logging.SetMinimumLevel(LogLevel.Information);
        logging.AddFilter("Microsoft", LogLevel.Warning);
        logging.AddFilter("Grpc", LogLevel.Warning);
        // A failed start (port in use) is reported by the verb in one line; the host would add a stack trace.
        logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.Critical);
        logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "HH:mm:ss.fff ";
        });
        logging.Services.Configure<ConsoleLoggerOptions>(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
    });
}
