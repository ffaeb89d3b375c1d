using System.CommandLine;

namespace KvTier.Cli.Commands;

/// <summary><c>kvtier lookup</c>: how many leading keys of a chain are cached.</summary>
internal static class LookupCommand
{
    public static Command Create()
    {
        var keys = new Option<string>("--keys") { Description = "Comma-separated block keys, in prompt order.", Required = true };
        var command = new Command("lookup", "Print the count of leading keys cached.") { keys };
        var client = new ClientFlags(command);
        command.SetAction((parse, ct) =>
        {
            var chain = Inputs.Keys("--keys", parse.GetRequiredValue(keys));
            return client.RunAsync(parse, async kv =>
            {
                var result = await kv.LookupAsync(chain, ct).ConfigureAwait(false);
                Console.Out.WriteLine(result.Prefix);
                return ExitCodes.Ok;
            });
        });
        return command;
    }
}
