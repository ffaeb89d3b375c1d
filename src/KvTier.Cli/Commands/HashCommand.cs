using System.CommandLine;
using System.Text;
using KvTier.Core;

namespace KvTier.Cli.Commands;

/// <summary><c>kvtier hash</c>: the vLLM-compatible key of every full block of a token list (no server needed).</summary>
internal static class HashCommand
{
    public static Command Create()
    {
        var tokens = new Option<string>("--tokens") { Description = "Comma-separated token ids, e.g. 1,2,3.", Required = true };
        var blockTokens = new Option<int>("--block-tokens") { Description = "Tokens per block.", DefaultValueFactory = _ => 16 };
        var seed = new Option<string>("--seed") { Description = "Hash seed (vLLM's PYTHONHASHSEED).", DefaultValueFactory = _ => "0" };
        var salt = new Option<string?>("--salt") { Description = "Cache salt (hashed into the first block)." };
        var lora = new Option<string?>("--lora") { Description = "LoRA adapter name (hashed into every block)." };
        var command = new Command("hash", "Print one lower-case hex key (64 chars) per full block of tokens, one per line.")
        {
            tokens, blockTokens, seed, salt, lora,
        };
        command.SetAction(parse =>
        {
            var size = parse.GetValue(blockTokens);
            if (size <= 0)
            {
                throw new UsageException($"--block-tokens {size} is not a block size: give a positive number of tokens (vLLM's default is 16).");
            }

            var ids = Inputs.Tokens("--tokens", parse.GetRequiredValue(tokens));
            var keys = new BlockHasher(parse.GetValue(seed) ?? "0", size).HashChain(ids, parse.GetValue(lora), parse.GetValue(salt));
            if (keys.Length == 0)
            {
                // Not an error (a partial block has no key), but say why nothing was printed.
                Console.Error.WriteLine($"kvtier: {ids.Length} tokens make no full block of {size}: nothing to print.");
            }

            var output = new StringBuilder(keys.Length * (BlockKey.Size * 2 + 1));
            foreach (var key in keys)
            {
                output.Append(key.ToString()).Append('\n');
            }

            Console.Out.Write(output.ToString());
            return ExitCodes.Ok;
        });
        return command;
    }
}
