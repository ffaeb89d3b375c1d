using System.Reflection;
using KvTier.Core;

namespace KvTier.Policy;

/// <summary>
/// What re-prefilling costs one model on one device, and where the numbers come from:
/// recompute_ms(n | c) = overhead + linear × n + attention × n × (c + n/2), for n new tokens after c cached ones.
/// The linear term is the dense matmuls (per token); the attention term is each new token attending to the
/// context before it, on average c + n/2 positions. Text form: see <see cref="Parse"/>.
/// </summary>
/// <param name="Model">Model name (a <see cref="ModelPreset"/> name or the engine's model id).</param>
/// <param name="Device">The device the numbers hold for ("h100-sxm", "cpu-2core").</param>
/// <param name="Source">Where the numbers come from, honestly: measured how and where, or derived from what.</param>
/// <param name="OverheadMs">Fixed cost of one prefill call, in ms.</param>
/// <param name="LinearMsPerToken">Cost per new token, in ms.</param>
/// <param name="AttentionMsPerTokenPair">Cost per (new token × context token) pair, in ms.</param>
public sealed record PrefillProfile(
    string Model, string Device, string Source, double OverheadMs, double LinearMsPerToken, double AttentionMsPerTokenPair)
{
    private static readonly Lazy<IReadOnlyList<PrefillProfile>> BuiltInProfiles = new(LoadBuiltIn);

    /// <summary>The profiles shipped inside this assembly (Profiles/*.json).</summary>
    public static IReadOnlyList<PrefillProfile> BuiltIn => BuiltInProfiles.Value;

    /// <summary>
    /// Milliseconds to prefill <paramref name="tokens"/> new tokens after <paramref name="cachedTokens"/> cached ones.
    /// Zero new tokens still costs one token: the engine runs a forward pass for the first output token anyway
    /// (vLLM recomputes the last prompt token of a full hit).
    /// </summary>
    public double RecomputeMs(double tokens, double cachedTokens) =>
        new PrefillCoefficients(OverheadMs, LinearMsPerToken, AttentionMsPerTokenPair).RecomputeMs(tokens, cachedTokens);

    /// <summary>Finds a built-in profile by model and device (case-insensitive).</summary>
    /// <exception cref="ArgumentException">No such profile; the message lists those that exist.</exception>
    public static PrefillProfile Get(string model, string device) =>
        BuiltIn.FirstOrDefault(p =>
            string.Equals(p.Model, model, StringComparison.OrdinalIgnoreCase)
            && string.Equals(p.Device, device, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException(
            $"no built-in prefill profile for model '{model}' on '{device}': use one of "
            + string.Join(", ", BuiltIn.Select(p => $"{p.Model}@{p.Device}"))
            + ", parse your own with PrefillProfile.Parse, or derive one with PrefillProfile.Derive.",
            nameof(model));

    /// <summary>
    /// Parses a profile from JSON text (comments and trailing commas allowed):
    /// <code>
    /// { "model": "llama-3.1-8b", "device": "h100-sxm", "source": "measured ... / derived from ...",
    ///   "overhead_ms": 4.5, "linear_ms_per_token": 0.0353, "attention_ms_per_token_pair": 1.32e-6 }
    /// </code>
    /// Every field is required; unknown fields are refused so that a misspelt one is not silently ignored.
    /// </summary>
    /// <exception cref="PrefillProfileFormatException">The text is not such a profile; the message names the field.</exception>
    public static PrefillProfile Parse(string text) => PrefillProfileJson.Parse(text);

    /// <summary>The profile as JSON text that <see cref="Parse"/> reads back.</summary>
    public string ToJson() => PrefillProfileJson.Write(this);

    /// <summary>
    /// Derives a profile from a model's shape and a device's published peak numbers, for projections where no
    /// measurement exists. Dense matmuls cost 2 FLOP per weight per token; attention costs 4 × head_dim FLOP per
    /// query head per layer per (token, context) pair (QKᵀ and PV); both run at <paramref name="utilisation"/> of
    /// <paramref name="peakTflops"/>. The overhead is one pass over the bf16 layer and LM-head weights at
    /// <paramref name="memoryTBps"/> (a forward pass cannot beat reading its weights). The source text says all this.
    /// </summary>
    public static PrefillProfile Derive(ModelPreset preset, string device, double peakTflops, double memoryTBps, double utilisation)
    {
        ArgumentNullException.ThrowIfNull(preset);
        ArgumentException.ThrowIfNullOrWhiteSpace(device);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(peakTflops);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(memoryTBps);
        if (!(utilisation > 0 && utilisation <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(utilisation), utilisation, "utilisation must be in (0, 1].");
        }

        var g = preset.Geometry;
        double qWidth = (double)preset.QueryHeads * g.HeadDim;
        double kvWidth = (double)g.KvHeads * g.HeadDim;
        var layerWeights = (preset.Hidden * qWidth * 2) + (preset.Hidden * kvWidth * 2) + (3.0 * preset.Hidden * preset.Intermediate);
        var matmulWeights = (g.Layers * layerWeights) + ((double)preset.Vocab * preset.Hidden);
        var linearFlops = 2 * g.Layers * layerWeights;
        var attentionFlops = 4.0 * g.Layers * qWidth;
        var flopsPerMs = peakTflops * 1e12 * utilisation / 1e3;
        var overheadMs = matmulWeights * 2 / (memoryTBps * 1e12) * 1e3;
        var source = FormattableString.Invariant(
            $"derived, not measured: {linearFlops / 1e9:F2} GFLOP per token of dense matmuls and {attentionFlops:F0} FLOP per ")
            + FormattableString.Invariant(
            $"(token, context) pair of attention from the {preset.Name} shape ({preset.Source}), run at an assumed ")
            + FormattableString.Invariant(
            $"{utilisation * 100:G3}% of {device}'s published {peakTflops:G4} TFLOP/s dense bf16 peak; overhead = one read of ")
            + FormattableString.Invariant(
            $"{matmulWeights * 2 / 1e9:F1} GB of bf16 weights at the published {memoryTBps:G4} TB/s. Recalibrate with measured prefills.");
        return new PrefillProfile(
            preset.Name, device, source, Round(overheadMs), Round(linearFlops / flopsPerMs), Round(attentionFlops / flopsPerMs));
    }

    // Four significant digits: the inputs are assumptions, more digits would be invented precision.
    private static double Round(double value) =>
        value == 0 ? 0 : Math.Round(value, Math.Clamp(3 - (int)Math.Floor(Math.Log10(Math.Abs(value))), 0, 15));

    private static List<PrefillProfile> LoadBuiltIn()
    {
        var assembly = typeof(PrefillProfile).Assembly;
        const string prefix = "KvTier.Policy.Profiles.";
        var profiles = new List<PrefillProfile>();
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Order())
        {
            profiles.Add(Parse(ReadResource(assembly, name)));
        }

        return profiles;
    }

    private static string ReadResource(Assembly assembly, string name)
    {
        // An embedded resource is a stream over the loaded assembly's own memory, not a file.
        using var stream = assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"embedded prefill profile '{name}' is missing from the assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
