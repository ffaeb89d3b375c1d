using System.CommandLine;
using System.Text.Json;
using KvTier.Bench;
using KvTier.Core;
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
        return command;
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
            try
            {
                options.Validate();
            }
            catch (ArgumentException e)
            {
                throw new UsageException(e.Message);
            }

            var result = WithProgress("bench store", progress => StoreBenchmark.Run(options, progress));
            Write(result, StoreBenchReport.Markdown(result), parse.GetValue(json), parse.GetValue(outDir));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Option<string?> JsonFile() => new("--json") { Description = "Write the result fields as JSON to FILE." };

    private static Option<string?> OutDir() => new("--out") { Description = "Write report.md and results.json into DIR." };

    private static string Preset(string flag, string name)
    {
        try
        {
            return ModelPreset.Get(name).Name;
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"{flag} {e.Message}");
        }
    }

    private static T WithProgress<T>(string title, Func<IProgress<BenchProgress>, T> run)
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

    private static void Write<T>(T result, string markdown, string? jsonFile, string? outDir)
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
