using System.CommandLine;

namespace KvTier.Cli.Commands;

/// <summary><c>kvtier get</c>: fetches one verified block into a file (exit 3 when it is not cached).</summary>
internal static class GetCommand
{
    public static Command Create()
    {
        var key = new Option<string>("--key") { Description = "The block key (64 hex digits).", Required = true };
        var output = new Option<string>("--out") { Description = "File to write the block to ('-' for stdout).", Required = true };
        var command = new Command("get", "Fetch a block into a file (exit 0 when found, 3 when missing).") { key, output };
        var client = new ClientFlags(command);
        command.SetAction((parse, ct) =>
        {
            var blockKey = Inputs.Key("--key", parse.GetRequiredValue(key));
            var path = parse.GetRequiredValue(output);
            var directory = Path.GetDirectoryName(Path.GetFullPath(path == "-" ? "." : path));
            if (path != "-" && (directory is null || !Directory.Exists(directory)))
            {
                throw new UsageException($"--out '{path}': the directory '{directory}' does not exist: create it or write elsewhere.");
            }

            return client.RunAsync(parse, async kv =>
            {
                var bytes = await kv.GetAsync(blockKey, ct).ConfigureAwait(false);
                if (bytes is null)
                {
                    return CliApp.Fail(ExitCodes.NotFound, $"block {blockKey} is not cached on {kv.Server.GetLeftPart(UriPartial.Authority)}");
                }

                await WriteAsync(path, bytes, ct).ConfigureAwait(false);
                return ExitCodes.Ok;
            });
        });
        return command;
    }

    // Write beside the target, then rename: a reader never sees half a block under the final name.
    private static async Task WriteAsync(string path, byte[] bytes, CancellationToken ct)
    {
        if (path == "-")
        {
            await using var stdout = Console.OpenStandardOutput();
            await stdout.WriteAsync(bytes, ct).ConfigureAwait(false);
            return;
        }

        var temporary = path + ".part";
        await File.WriteAllBytesAsync(temporary, bytes, ct).ConfigureAwait(false);
        File.Move(temporary, path, overwrite: true);
    }
}
