using System.CommandLine;
using System.Text.Json;
using KvTier.Bench;
using KvTier.Core;
using KvTier.Transfer;
using Spectre.Console;

namespace KvTier.Cli.Commands;

/// <summary><c>kvtier bench</c>: the benchmark harness. Each scenario writes its JSON fields (a contract) and a table.</summary>
internal static class BenchCommand
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static Command Create()
    {
        var command = new Command("bench", "Run a benchmark scenario; figures are measured side by side in one run.");
        command.Subcommands.Add(Store());
        command.Subcommands.Add(Transfer());
        command.Subcommands.Add(Net());
        command.Subcommands.Add(BenchCrossoverCommand.Create());
        command.Subcommands.Add(BenchWorkloadCommand.Create());
        command.Subcommands.Add(SocketServer());
        return command;
    }

    // `bench net` runs its plain-socket baseline's server in a process of its own, as the data plane's server is.
    private static Command SocketServer()
    {
        var blocks = new Option<int>("--blocks") { Required = true };
        var blockBytes = new Option<int>("--block-bytes") { Required = true };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 1 };
        var command = new Command("socket-server", "The plain-socket baseline server of `bench net` (started by it).")
        {
            blocks, blockBytes, seed,
        };
        command.Hidden = true;
        command.SetAction(async (parse, ct) =>
        {
            await using var server = NetSocketServer.Start(parse.GetValue(blocks), parse.GetValue(blockBytes), parse.GetValue(seed));
            await Console.Out.WriteLineAsync($"listening {server.Endpoint}").ConfigureAwait(false);
            await Console.Out.FlushAsync(ct).ConfigureAwait(false);
            // Serves until `bench net` closes our stdin or stops us.
            await Console.In.ReadToEndAsync(ct).ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    private static Command Transfer()
    {
        var json = JsonFile();
        var outDir = OutDir();
        var model = new Option<string>("--model") { Description = $"Block geometry preset ({ModelPreset.Names}).", DefaultValueFactory = _ => "llama-3.1-8b" };
        var layout = new Option<string>("--layout") { Description = "Pool layout: vllm (paged) or layer-major.", DefaultValueFactory = _ => "vllm" };
        var blocks = new Option<int>("--blocks") { Description = "Blocks in the engine pool, all moved each pass.", DefaultValueFactory = _ => 128 };
        var staging = new Option<string>("--staging") { Description = "Pinned staging.", DefaultValueFactory = _ => "64MiB" };
        var passes = new Option<int>("--passes") { Description = "Measured passes (median reported).", DefaultValueFactory = _ => 3 };
        var command = new Command("transfer", "Offload/onload GB/s (pool → store and back) against memcpy, and prefill tokens/s.")
        {
            json, outDir, model, layout, blocks, staging, passes,
        };
        command.SetAction(parse =>
        {
            var options = new TransferBenchOptions
            {
                Model = Preset("--model", parse.GetRequiredValue(model)),
                Layout = parse.GetRequiredValue(layout).ToLowerInvariant() switch
                {
                    "vllm" or "vllm-paged" => KvPoolLayout.VllmPaged,
                    "layer-major" => KvPoolLayout.LayerMajor,
                    var other => throw new UsageException($"--layout '{other}' is not a layout: use vllm or layer-major."),
                },
                PoolBlocks = parse.GetValue(blocks),
                StagingBytes = Inputs.Size("--staging", parse.GetRequiredValue(staging)),
                Passes = parse.GetValue(passes),
            };
            Validate(options.Validate);
            var result = WithProgress("bench transfer", progress => TransferBenchmark.Run(options, progress));
            Write(result, TransferBenchReport.Markdown(result), parse.GetValue(json), parse.GetValue(outDir));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Net()
    {
        var json = JsonFile();
        var outDir = OutDir();
        var model = new Option<string>("--model") { Description = $"Block geometry preset ({ModelPreset.Names}).", DefaultValueFactory = _ => "llama-3.1-8b" };
        var blocks = new Option<int>("--blocks") { Description = "Distinct blocks each path fetches per pass (256 = 512 MiB of 2 MiB blocks).", DefaultValueFactory = _ => 256 };
        var connections = new Option<int>("--connections") { Description = "Connections every path uses at once.", DefaultValueFactory = _ => 4 };
        var batch = new Option<int>("--batch") { Description = "Blocks requested at once per connection (keys per data-plane request).", DefaultValueFactory = _ => 16 };
        var rounds = new Option<int>("--rounds") { Description = "Times each measurement fetches every block.", DefaultValueFactory = _ => 4 };
        var passes = new Option<int>("--passes") { Description = "Measured passes (median reported).", DefaultValueFactory = _ => 3 };
        var samples = new Option<int>("--samples") { Description = "One-block fetches timed for p50/p99.", DefaultValueFactory = _ => 300 };
        var redis = new Option<string>("--redis-server") { Description = "The redis-server executable (`make bench` installs it).", DefaultValueFactory = _ => NetBenchOptions.DefaultRedisServer };
        var command = new Command("net", "Peer data-plane fetch GB/s between two sidecar processes against gRPC, redis GET and a plain loopback socket, and one-block fetch latency.")
        {
            json, outDir, model, blocks, connections, batch, rounds, passes, samples, redis,
        };
        // Truly asynchronous (the run happens on the thread pool): System.CommandLine only watches for Ctrl+C / SIGTERM once the
        // action has returned its task; then the token cancels the run, which stops its child processes before exiting.
        command.SetAction(async (parse, ct) =>
        {
            var options = new NetBenchOptions
            {
                // The sidecars are this very executable (or `dotnet kvtier.dll` when run through the dotnet host).
                Sidecar = NetSidecarCommand.ForCurrentProcess(typeof(BenchCommand).Assembly.Location),
                Model = Preset("--model", parse.GetRequiredValue(model)),
                Blocks = parse.GetValue(blocks),
                Connections = parse.GetValue(connections),
                BatchKeys = parse.GetValue(batch),
                Rounds = parse.GetValue(rounds),
                Passes = parse.GetValue(passes),
                LatencySamples = parse.GetValue(samples),
                RedisServer = parse.GetRequiredValue(redis),
            };
            Validate(options.Validate);
            NetBenchResult result;
            try
            {
                result = await Task.Run(() => WithProgress("bench net", progress => NetBenchmark.Run(options, progress, ct)), ct).ConfigureAwait(false);
            }
            catch (NetBenchException e)
            {
                return CliApp.Fail(ExitCodes.Failure, e.Message);
            }

            Write(result, NetBenchReport.Markdown(result), parse.GetValue(json), parse.GetValue(outDir));
            return ExitCodes.Ok;
        });
        return command;
    }

    internal static void Validate(Action validate)
    {
        try
        {
            validate();
        }
        catch (ArgumentException e)
        {
            throw UsageException.From(e);
        }
    }

    private static Command Store()
    {
        var json = JsonFile();
        var outDir = OutDir();
        var memory = new Option<string>("--memory") { Description = "Store budget, preallocated before timing.", DefaultValueFactory = _ => "2GiB" };
        var model = new Option<string>("--model") { Description = $"Block geometry preset ({ModelPreset.Names}).", DefaultValueFactory = _ => "llama-3.1-8b" };
        var chain = new Option<int>("--chain") { Description = "Keys in the looked-up chain.", DefaultValueFactory = _ => 8192 };
        var passes = new Option<int>("--passes") { Description = "Measured passes (median reported).", DefaultValueFactory = _ => 3 };
        var command = new Command("store", "DRAM tier put/get GB/s against memcpy, and chain lookup latency.") { json, outDir, memory, model, chain, passes };
        command.SetAction(parse =>
        {
            var options = new StoreBenchOptions
            {
                MemoryBytes = Inputs.Size("--memory", parse.GetRequiredValue(memory)),
                Model = Preset("--model", parse.GetRequiredValue(model)),
                ChainKeys = parse.GetValue(chain),
                Passes = parse.GetValue(passes),
            };
            Validate(options.Validate);
            var result = WithProgress("bench store", progress => StoreBenchmark.Run(options, progress));
            Write(result, StoreBenchReport.Markdown(result), parse.GetValue(json), parse.GetValue(outDir));
            return ExitCodes.Ok;
        });
        return command;
    }

    internal static Option<string?> JsonFile() => new("--json") { Description = "Write the result fields as JSON to FILE." };

    internal static Option<string?> OutDir() => new("--out") { Description = "Write report.md and results.json into DIR." };

    private static string Preset(string flag, string name)
    {
        try
        {
            return ModelPreset.Get(name).Name;
        }
        catch (ArgumentException e)
        {
            throw UsageException.From(e, $"{flag} ");
        }
    }

    internal static T WithProgress<T>(string title, Func<IProgress<BenchProgress>, T> run)
    {
        T result = default!;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(context =>
            {
                var tasks = new Dictionary<string, ProgressTask>();
                var progress = new Reporter(p =>
                {
                    if (!tasks.TryGetValue(p.Phase, out var task))
                    {
                        foreach (var done in tasks.Values)
                        {
                            done.Value = done.MaxValue;
                        }

                        task = tasks[p.Phase] = context.AddTask($"{title}: {p.Phase}", maxValue: 1);
                    }

                    task.Value = Math.Clamp(p.Fraction, 0, 1);
                });
                result = run(progress);
                foreach (var task in tasks.Values)
                {
                    task.Value = task.MaxValue;
                }
            });
        return result;
    }

    internal static void Write<T>(T result, string markdown, string? jsonFile, string? outDir)
    {
        var json = JsonSerializer.Serialize(result, Json);
        Console.Out.WriteLine();
        Console.Out.Write(markdown);
        if (jsonFile is not null)
        {
            WriteFile(jsonFile, json);
        }

        if (outDir is not null)
        {
            Directory.CreateDirectory(outDir);
            WriteFile(Path.Combine(outDir, "results.json"), json);
            WriteFile(Path.Combine(outDir, "report.md"), markdown);
        }
    }

    private static void WriteFile(string path, string text)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null)
        {
            Directory.CreateDirectory(dir);
        }

        File.WriteAllText(path, text.EndsWith('\n') ? text : text + "\n");
        Console.Error.WriteLine($"kvtier: wrote {path}");
    }

    // Reports synchronously, in order (Progress<T> would post to the thread pool).
    private sealed class Reporter(Action<BenchProgress> report) : IProgress<BenchProgress>
    {
        public void Report(BenchProgress value) => report(value);
    }
}
