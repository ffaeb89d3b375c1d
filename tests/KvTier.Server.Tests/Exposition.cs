using System.Globalization;
using System.Text.RegularExpressions;

namespace KvTier.Server.Tests;

/// <summary>
/// One scrape of <c>/metrics</c> (Prometheus text format), parsed into samples, so tests compare numbers rather than
/// text. A sample is found by its name and a subset of its labels, and must be the only one matching.
/// </summary>
internal sealed partial class Exposition
{
    private readonly List<Sample> _samples = [];

    private Exposition(string text)
    {
        Text = text;
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (line.StartsWith('#'))
            {
                continue;
            }

            var match = SampleLine().Match(line);
            Assert.True(match.Success, $"not a sample line: {line}");
            var labels = LabelPair().Matches(match.Groups["labels"].Value)
                .ToDictionary(m => m.Groups[1].Value, m => Regex.Unescape(m.Groups[2].Value), StringComparer.Ordinal);
            _samples.Add(new Sample(match.Groups["name"].Value, labels, ParseValue(match.Groups["value"].Value)));
        }
    }

    /// <summary>The text as served.</summary>
    public string Text { get; }

    /// <summary>Every sample name (histograms appear as their _bucket, _sum and _count series).</summary>
    public IReadOnlySet<string> Names => _samples.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);

    public static async Task<Exposition> ScrapeAsync(HttpClient http, Uri operations)
    {
        using var response = await http.GetAsync(new Uri(operations, "/metrics"));
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        return new Exposition(await response.Content.ReadAsStringAsync());
    }

    /// <summary>The value of the one sample named <paramref name="name"/> that has every label of <paramref name="labels"/>.</summary>
    public double Value(string name, params (string Label, string Value)[] labels)
    {
        var matches = Series(name, labels).ToList();
        Assert.True(matches.Count == 1, $"{matches.Count} samples match {name}{{{string.Join(',', labels.Select(l => $"{l.Label}={l.Value}"))}}} in:\n{Text}");
        return matches[0].Value;
    }

    /// <summary>Every sample named <paramref name="name"/> that has every label of <paramref name="labels"/>.</summary>
    public IEnumerable<Sample> Series(string name, params (string Label, string Value)[] labels) =>
        _samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Label, out var v) && v == l.Value));

    private static double ParseValue(string text) => text switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        _ => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
    };

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})?\s+(?<value>\S+)(\s+\S+)?$""")]
    private static partial Regex SampleLine();

    [GeneratedRegex("""([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?""")]
    private static partial Regex LabelPair();

    public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);
}
