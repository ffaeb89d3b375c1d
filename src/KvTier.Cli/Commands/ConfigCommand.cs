using System.CommandLine;
using KvTier.Server;

namespace KvTier.Cli.Commands;

/// <summary><c>kvtier config print</c>: the effective server configuration (file, environment, flags) as JSON.</summary>
internal static class ConfigCommand
{
    public static Command Create()
    {
        var print = new Command("print", "Print the effective configuration as JSON, secrets redacted (usable as --config FILE).");
        var flags = new ServeFlags(print);
        print.SetAction(parse =>
        {
            Console.Out.WriteLine(ServerOptionsJson.Write(flags.Bind(parse)));
            return ExitCodes.Ok;
        });
        return new Command("config", "Inspect the server configuration.") { print };
    }
}
