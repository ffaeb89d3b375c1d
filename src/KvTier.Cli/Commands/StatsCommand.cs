using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using KvTier.Core;
using KvTier.Protos.V1;

namespace KvTier.Cli.Commands;

/// <summary><c>kvtier stats</c>: the server's counters, as text or JSON.</summary>
internal static class StatsCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object (field names as in kvtier.proto, numbers as numbers)." };
        var command = new Command("stats", "Print the server's store counters.") { json };
        var client = new ClientFlags(command);
        command.SetAction((parse, ct) => client.RunAsync(parse, async kv =>
        {
            var stats = await kv.StatsAsync(ct).ConfigureAwait(false);
            Console.Out.Write(parse.GetValue(json) ? ToJson(stats) : ToText(stats));
            return ExitCodes.Ok;
        }));
        return command;
    }

    // Fields come from the proto descriptor, so a counter added to kvtier.proto shows up here without a code change.
    // Protobuf's own JSON mapping would print 64-bit counters as strings; scripts want numbers.
    internal static string ToJson(StatsResponse stats)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            foreach (var field in StatsResponse.Descriptor.Fields.InFieldNumberOrder())
            {
                switch (field.Accessor.GetValue(stats))
                {
                    case ulong number: w.WriteNumber(field.Name, number); break;
                    case string text: w.WriteString(field.Name, text); break;
                    case var other: w.WriteString(field.Name, Convert.ToString(other, CultureInfo.InvariantCulture)); break;
                }
            }

            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static string ToText(StatsResponse stats)
    {
        var fields = StatsResponse.Descriptor.Fields.InFieldNumberOrder();
        var width = fields.Max(f => f.Name.Length) + 2;
        var text = new StringBuilder();
        foreach (var field in fields)
        {
            var value = field.Accessor.GetValue(stats);
            text.Append(field.Name.PadRight(width)).Append(Convert.ToString(value, CultureInfo.InvariantCulture));
            if (value is ulong bytes && field.Name.EndsWith("_bytes", StringComparison.Ordinal) && bytes >= 1024)
            {
                text.Append(" (").Append(ByteSize.Format((long)bytes)).Append(')');
            }

            text.Append('\n');
        }

        return text.ToString();
    }
}
