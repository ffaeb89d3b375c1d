using System.CommandLine;

namespace KvTier.Cli.Commands;

/// <summary><c>kvtier put</c>: stores a file's bytes as one block.</summary>
internal static class PutCommand
{
    public static Command Create()
    {
        var key = new Option<string>("--key") { Description = "The block key (64 hex digits).", Required = true };
        var input = new Option<string>("--in") { Description = "File holding the block's bytes.", Required = true };
        var command = new Command("put", "Store a file as one block (exit 0 when stored).") { key, input };
        var client = new ClientFlags(command);
        command.SetAction((parse, ct) =>
        {
            var blockKey = Inputs.Key("--key", parse.GetRequiredValue(key));
            var path = Inputs.ExistingFile("--in", parse.GetRequiredValue(input));
            // Checked before reading: a file no node can store would be read whole (or fail past 2 GiB) only to be refused.
            if (new FileInfo(path).Length is var length && length > KvTier.Store.StoreLayout.MaxSupportedBlockBytes)
            {
                throw new UsageException(
                    $"--in '{path}' holds {length} bytes: a block is at most {KvTier.Store.StoreLayout.MaxSupportedBlockBytes} bytes on any node "
                    + "(and at most its --max-block, 64MiB by default): split it into blocks.");
            }

            return client.RunAsync(parse, async kv =>
            {
                var bytes = await File.ReadAllBytesAsync(path, ct).ConfigureAwait(false);
                await kv.PutAsync(blockKey, bytes, ct: ct).ConfigureAwait(false);
                Console.Out.WriteLine($"stored {bytes.Length} bytes as {blockKey}");
                return ExitCodes.Ok;
            });
        });
        return command;
    }
}
