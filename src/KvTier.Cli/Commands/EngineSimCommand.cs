using System.CommandLine;
using System.Globalization;
using Grpc.Core;
using KvTier.Client;
using KvTier.Core;
using KvTier.EngineSim;
using KvTier.Server;

namespace KvTier.Cli.Commands;

/// <summary>
/// <c>kvtier engine-sim</c>: a reference engine (real prefill of a small model) that offloads evicted blocks to a
/// sidecar and onloads cached prefixes back; <c>--verify</c> recomputes every onloaded block and compares bit for bit.
/// </summary>
internal static class EngineSimCommand
{
    public static Command Create()
    {
        var embedded = new Option<bool>("--embedded") { Description = "Run an in-process sidecar (default when --server is not given)." };
        var server = new Option<string?>("--server") { Description = "Use a running sidecar on this machine (the pool is a shared-memory file)." };
        var preset = new Option<string>("--preset") { Description = "Model preset (only small ones run on a CPU).", DefaultValueFactory = _ => "tiny" };
        var requests = new Option<int>("--requests") { Description = "Requests to serve.", DefaultValueFactory = _ => 20 };
        var verify = new Option<bool>("--verify") { Description = "Recompute every onloaded block and compare bit for bit; exit 1 on any difference." };
        var vramBlocks = new Option<int>("--vram-blocks") { Description = "Block slots in the engine's pool (small, to force evictions).", DefaultValueFactory = _ => 24 };
        var conversations = new Option<int>("--conversations") { Description = "Conversations served round-robin.", DefaultValueFactory = _ => 3 };
        var seed = new Option<int>("--seed") { Description = "Seed of the weights and the prompts.", DefaultValueFactory = _ => 0 };
        var apiKey = new Option<string?>("--api-key") { Description = "API key (or KVTIER_API_KEY)." };
        var device = new Option<string>("--device")
        {
            Description = "Prefill profile device for the sidecar's fetch-vs-recompute plan (none: fetch whatever is cached).",
            DefaultValueFactory = _ => "cpu-2core",
        };
        var command = new Command("engine-sim", "Serve requests with a reference engine that uses KvTier for evicted prefixes.")
        {
            embedded, server, preset, requests, verify, vramBlocks, conversations, seed, apiKey, device,
        };
        command.SetAction(async (parse, ct) =>
        {
            var n = parse.GetValue(requests);
            var slots = parse.GetValue(vramBlocks);
            var convs = parse.GetValue(conversations);
            if (n < 1 || slots < 2 || convs < 1)
            {
                throw new UsageException($"--requests {n}, --vram-blocks {slots} and --conversations {convs}: give at least 1, 2 and 1.");
            }

            if (parse.GetValue(embedded) && parse.GetValue(server) is not null)
            {
                throw new UsageException("--embedded and --server exclude each other: pick one.");
            }

            ReferenceModel model;
            try
            {
                model = new ReferenceModel(ModelPreset.Get(parse.GetRequiredValue(preset)), parse.GetValue(seed));
            }
            catch (ArgumentException e)
            {
                throw UsageException.From(e, "--preset: ");
            }

            await using var sidecar = parse.GetValue(server) is null ? await StartEmbeddedAsync(ct).ConfigureAwait(false) : null;
            var address = sidecar?.Address ?? ClientFlags.ParseServer(parse.GetValue(server)!);
            using var client = new KvTierClient(address, parse.GetValue(apiKey) ?? Environment.GetEnvironmentVariable("KVTIER_API_KEY"));
            var profile = parse.GetValue(device) is { } d && d != "none" ? d : null;
            try
            {
                return await RunAsync(model, client, n, slots, convs, parse.GetValue(seed), parse.GetValue(verify), profile, ct).ConfigureAwait(false);
            }
            catch (RpcException e)
            {
                return CliApp.FromRpc(e, address); // as the client verbs: the sidecar's status as one line and its exit code
            }
        });
        return command;
    }

    private static async Task<int> RunAsync(ReferenceModel model, KvTierClient client, int requests, int slots, int conversations, int seed,
        bool verify, string? device, CancellationToken ct)
    {
        var poolPath = Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), $"kvtier-engine-sim-{Environment.ProcessId}");
        await using var engine = await SimulatedEngine.StartAsync(model, client, "0", slots, poolPath, new EngineOptions { Device = device }, ct).ConfigureAwait(false);
        var c = CultureInfo.InvariantCulture;
        Console.Out.WriteLine(string.Create(c, $"engine-sim: {model.Preset.Name}, {slots} pool blocks, {conversations} conversations, sidecar {client.Server}"));
        Console.Out.WriteLine("request  tokens  vram  plan       onloaded  computed  offloaded  ttft_ms");
        long tokens = 0, computed = 0;
        int onloaded = 0, verified = 0, mismatched = 0;
        double ttftMs = 0;
        for (var r = 0; r < requests; r++)
        {
            var prompt = ConversationWorkload.Prompt(r, conversations, model.Preset.Vocab, seed);
            var result = await engine.RunAsync(prompt, verify, ct).ConfigureAwait(false);
            Console.Out.WriteLine(string.Create(c, $"{r,7}  {result.PromptTokens,6}  {result.VramBlocks,4}  {result.Decision,-9}  {result.OnloadedBlocks,8}  {result.ComputedTokens,8}  {result.OffloadedBlocks,9}  {result.Ttft.TotalMilliseconds,7:0.0}"));
            tokens += result.PromptTokens;
            computed += result.ComputedTokens;
            onloaded += result.OnloadedBlocks;
            verified += result.VerifiedBlocks;
            mismatched += result.MismatchedBlocks;
            ttftMs += result.Ttft.TotalMilliseconds;
        }

        Console.Out.WriteLine(string.Create(c, $"{requests} requests, {tokens} prompt tokens, {computed} prefilled ({1 - (double)computed / tokens:P1} saved), {onloaded} blocks onloaded from KvTier, mean TTFT {ttftMs / requests:0.0} ms"));
        if (verify)
        {
            Console.Out.WriteLine(string.Create(c, $"verified {verified} blocks"));
            if (mismatched > 0)
            {
                Console.Error.WriteLine(string.Create(c, $"kvtier: {mismatched} onloaded blocks differ from their recomputation: the tier returned wrong bytes."));
                return ExitCodes.Failure;
            }
        }

        return ExitCodes.Ok;
    }

    private static async Task<KvTierServer> StartEmbeddedAsync(CancellationToken ct) =>
        await KvTierServer.StartAsync(new ServerOptions { Listen = "127.0.0.1:0", Memory = "256MiB", MaxBlock = "4MiB", Staging = "16MiB" }, ct: ct)
            .ConfigureAwait(false);
}
