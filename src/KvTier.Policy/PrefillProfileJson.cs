using System.Globalization;
using System.Text;
using System.Text.Json;

namespace KvTier.Policy;

/// <summary>Reads and writes the prefill profile text format; every error names the field it is about.</summary>
internal static class PrefillProfileJson
{
    internal const string ModelField = "model";
    internal const string DeviceField = "device";
    internal const string SourceField = "source";
    internal const string OverheadField = "overhead_ms";
    internal const string LinearField = "linear_ms_per_token";
    internal const string AttentionField = "attention_ms_per_token_pair";

    private static readonly string[] Fields = [ModelField, DeviceField, SourceField, OverheadField, LinearField, AttentionField];

    private static readonly JsonDocumentOptions Options = new()
    {
        AllowTrailingCommas = true,
        CommentHandling = JsonCommentHandling.Skip,
    };

    public static PrefillProfile Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text, Options);
        }
        catch (JsonException e)
        {
            throw new PrefillProfileFormatException($"prefill profile is not valid JSON: {e.Message}", null, e);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new PrefillProfileFormatException($"prefill profile must be a JSON object, got {Describe(root.ValueKind)}.");
            }

            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in root.EnumerateObject())
            {
                if (Array.IndexOf(Fields, property.Name) < 0)
                {
                    throw new PrefillProfileFormatException(
                        $"prefill profile: unknown field '{property.Name}' (the fields are {string.Join(", ", Fields)}).", property.Name);
                }

                if (!seen.Add(property.Name))
                {
                    throw new PrefillProfileFormatException($"prefill profile: field '{property.Name}' appears twice.", property.Name);
                }
            }

            var linear = Number(root, LinearField);
            if (linear <= 0)
            {
                throw new PrefillProfileFormatException(
                    $"prefill profile: field '{LinearField}' must be greater than 0 (every token costs something), got {Format(linear)}.",
                    LinearField);
            }

            return new PrefillProfile(
                Text(root, ModelField), Text(root, DeviceField), Text(root, SourceField),
                Number(root, OverheadField), linear, Number(root, AttentionField));
        }
    }

    public static string Write(PrefillProfile profile)
    {
        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteString(ModelField, profile.Model);
            writer.WriteString(DeviceField, profile.Device);
            writer.WriteString(SourceField, profile.Source);
            writer.WriteNumber(OverheadField, profile.OverheadMs);
            writer.WriteNumber(LinearField, profile.LinearMsPerToken);
            writer.WriteNumber(AttentionField, profile.AttentionMsPerTokenPair);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static string Text(JsonElement root, string field)
    {
        var value = Required(root, field);
        if (value.ValueKind != JsonValueKind.String)
        {
            throw new PrefillProfileFormatException(
                $"prefill profile: field '{field}' must be a string, got {Describe(value.ValueKind)}.", field);
        }

        var text = value.GetString()!;
        if (string.IsNullOrWhiteSpace(text))
        {
            var hint = field == SourceField ? ": say where the numbers come from (measured how, or derived from what)" : string.Empty;
            throw new PrefillProfileFormatException($"prefill profile: field '{field}' must not be empty{hint}.", field);
        }

        return text;
    }

    private static double Number(JsonElement root, string field)
    {
        var value = Required(root, field);
        if (value.ValueKind != JsonValueKind.Number)
        {
            throw new PrefillProfileFormatException(
                $"prefill profile: field '{field}' must be a number, got {Describe(value.ValueKind)}.", field);
        }

        if (!value.TryGetDouble(out var number) || !double.IsFinite(number) || number < 0)
        {
            throw new PrefillProfileFormatException(
                $"prefill profile: field '{field}' must be a finite number ≥ 0, got {value.GetRawText()}.", field);
        }

        return number;
    }

    private static JsonElement Required(JsonElement root, string field) =>
        root.TryGetProperty(field, out var value)
            ? value
            : throw new PrefillProfileFormatException($"prefill profile: field '{field}' is missing.", field);

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    private static string Format(double value) => value.ToString("G6", CultureInfo.InvariantCulture);
}
