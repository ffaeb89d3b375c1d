using System.CommandLine;
using KvTier.Bench;
using KvTier.Core;

namespace KvTier.Cli.Commands;

/// <summary>
/// <c>kvtier bench crossover</c>: fetch vs recompute over prefix lengths, measured over an emulated link, against the
/// policy's predicted crossover. Writes the table to stdout, and JSON, report.md and crossover.png on request.
/// </summary>
internal static class BenchCrossoverCommand
{
    public static Command Create()
    {
        var defaults = new CrossoverBenchOptions();
        var json = new Option<string?>("--json") { Description = "Write the result fields as JSON to FILE." };
        var outDir = new Option<string?>("--out") { Description = $"Write report.md, results.json and {CrossoverBenchReport.PlotFile} into DIR." };
        var model = new Option<string>("--model") { Description = $"Model preset: block geometry and prefill profile ({ModelPreset.Names}).", DefaultValueFactory = _ => defaults.Model };
        var device = new Option<string>("--device")
        {
            Description = $"Device of the prefill profile (h100-sxm, a100-sxm-80gb; {CrossoverBenchOptions.MeasuredDevice} measures the tiny model here).",
            DefaultValueFactory = _ => defaults.Device,
        };
        var link = new Option<string>("--link") { Description = $"Emulated link: {LinkSpec.AcceptedForms}.", DefaultValueFactory = _ => "25gbit" };
        var minTokens = new Option<int>("--min-tokens") { Description = "Shortest prefix swept (a power of two).", DefaultValueFactory = _ => defaults.MinTokens };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Longest prefix swept (a power of two).", DefaultValueFactory = _ => defaults.MaxTokens };
        var maxMeasured = new Option<int>("--max-measured-tokens")
        {
            Description = $"On {CrossoverBenchOptions.MeasuredDevice}: longest prefix whose recompute the reference engine runs; longer ones are projected from the profile.",
            DefaultValueFactory = _ => defaults.MaxMeasuredTokens,
        };
        var runs = new Option<int>("--runs") { Description = "Timed runs per prefix length (median reported).", DefaultValueFactory = _ => defaults.Runs };
        var command = new Command("crossover", "Fetch-from-peer vs recompute time to first token over prefix lengths 64…64K, measured over an emulated link, against the policy's predicted crossover.")
        {
            json, outDir, model, device, link, minTokens, maxTokens, maxMeasured, runs,
        };
        command.SetAction(async (parse, ct) =>
        {
            var options = new CrossoverBenchOptions
            {
                Model = parse.GetRequiredValue(model),
                Device = parse.GetRequiredValue(device),
                Link = Usage(() => LinkSpec.Parse(parse.GetRequiredValue(link))),
                MinTokens = parse.GetValue(minTokens),
                MaxTokens = parse.GetValue(maxTokens),
                MaxMeasuredTokens = parse.GetValue(maxMeasured),
                Runs = parse.GetValue(runs),
            };
            Usage(() =>
            {
                options.Validate();
                return 0;
            });
            var result = await Task.Run(() => BenchCommand.WithProgress("bench crossover", progress => CrossoverBenchmark.Run(options, progress, ct)), ct).ConfigureAwait(false);
            BenchCommand.Write(result, CrossoverBenchReport.Markdown(result), parse.GetValue(json), parse.GetValue(outDir));
            if (parse.GetValue(outDir) is { } dir)
            {
                var plot = Path.Combine(dir, CrossoverBenchReport.PlotFile);
                CrossoverBenchReport.Plot(result, plot);
                Console.Error.WriteLine($"kvtier: wrote {plot}");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    // A bad setting is bad usage (exit 2), with the library's message naming it.
    private static T Usage<T>(Func<T> parse)
    {
        try
        {
            return parse();
        }
        catch (ArgumentException e)
        {
            throw UsageException.From(e);
        }
    }
}
