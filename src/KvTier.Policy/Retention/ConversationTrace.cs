using System.Text.Json;

namespace KvTier.Policy;

/// <summary>
/// A prefix-block request trace in the Mooncake FAST'25 JSON-lines format: one
/// <c>{"timestamp", "input_length", "output_length", "hash_ids"}</c> object per line.
/// </summary>
public sealed class ConversationTrace
{
    /// <summary>Prompt tokens per hash id in the Mooncake traces.</summary>
    public const int BlockTokens = 512;

    private ConversationTrace(string source, IReadOnlyList<TraceRequest> requests)
    {
        Source = source;
        Requests = requests;
    }

    /// <summary>Where the trace was read from (the file path, or the name given to <see cref="Parse"/>).</summary>
    public string Source { get; }

    /// <summary>The requests in file order.</summary>
    public IReadOnlyList<TraceRequest> Requests { get; }

    /// <summary>Where the Mooncake conversation trace is looked for, relative to each folder above the start.</summary>
    public static IReadOnlyList<string> DefaultLocations { get; } =
        ["bench/traces/conversation_trace.jsonl", "shared/traces/conversation_trace.jsonl"];

    /// <summary>
    /// The Mooncake conversation trace: the repository's copy (bench/traces) or the one beside the checkout
    /// (shared/traces), in the first folder at or above any of <paramref name="starts"/> that has one; null when none.
    /// </summary>
    public static string? FindDefault(params string[] starts)
    {
        ArgumentNullException.ThrowIfNull(starts);
        foreach (var start in starts)
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                foreach (var relative in DefaultLocations)
                {
                    var candidate = Path.Combine(dir.FullName, relative);
                    if (File.Exists(candidate))
                    {
                        return candidate;
                    }
                }
            }
        }

        return null;
    }

    /// <summary>Reads a trace file.</summary>
    /// <exception cref="FormatException">A line is malformed; the message names the file, the line and the field.</exception>
    public static ConversationTrace Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var reader = new StreamReader(path);
        return Parse(reader, path);
    }

    /// <summary>Reads a trace from <paramref name="reader"/>; <paramref name="source"/> names it in errors. Blank lines are skipped.</summary>
    /// <exception cref="FormatException">A line is malformed; the message names the source, the line and the field.</exception>
    public static ConversationTrace Parse(TextReader reader, string source)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(source);
        var requests = new List<TraceRequest>();
        var lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (!string.IsNullOrWhiteSpace(line))
            {
                requests.Add(ParseLine(line, source, lineNumber));
            }
        }

        return new ConversationTrace(source, requests);
    }

    private static TraceRequest ParseLine(string line, string source, int lineNumber)
    {
        FormatException Bad(string field, string why) => new($"{source}:{lineNumber}: field '{field}' {why}");

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            throw new FormatException($"{source}:{lineNumber}: not a JSON object ({e.Message})", e);
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException($"{source}:{lineNumber}: not a JSON object");
            }

            long Integer(string field, long min)
            {
                if (!root.TryGetProperty(field, out var value))
                {
                    throw Bad(field, "is missing");
                }

                if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var n) || n < min || n > int.MaxValue)
                {
                    throw Bad(field, $"must be an integer in [{min}, {int.MaxValue}], got {value.GetRawText()}");
                }

                return n;
            }

            var timestamp = Integer("timestamp", 0);
            var input = (int)Integer("input_length", 1);
            var output = (int)Integer("output_length", 0);
            if (!root.TryGetProperty("hash_ids", out var ids))
            {
                throw Bad("hash_ids", "is missing");
            }

            if (ids.ValueKind != JsonValueKind.Array)
            {
                throw Bad("hash_ids", "must be an array of integers");
            }

            // One id per started block: the last may be partial, but every block holds at least one token.
            var expected = (input + BlockTokens - 1) / BlockTokens;
            if (ids.GetArrayLength() != expected)
            {
                throw Bad("hash_ids", $"has {ids.GetArrayLength()} ids, but input_length {input} needs {expected}");
            }

            var hashIds = new long[expected];
            var i = 0;
            foreach (var id in ids.EnumerateArray())
            {
                if (id.ValueKind != JsonValueKind.Number || !id.TryGetInt64(out hashIds[i]))
                {
                    throw Bad("hash_ids", $"item {i} must be an integer, got {id.GetRawText()}");
                }

                i++;
            }

            return new TraceRequest(timestamp, input, output, hashIds);
        }
    }
}
