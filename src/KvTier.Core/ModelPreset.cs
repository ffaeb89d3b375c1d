namespace KvTier.Core;

/// <summary>
/// A model's full published shape: the KV geometry plus what a reference prefill needs.
/// </summary>
/// <param name="Geometry">KV-cache geometry (bf16 unless the preset says otherwise).</param>
/// <param name="Hidden">Hidden size (d_model).</param>
/// <param name="QueryHeads">Attention (query) heads.</param>
/// <param name="Intermediate">MLP intermediate size (SwiGLU).</param>
/// <param name="Vocab">Vocabulary size.</param>
/// <param name="RopeTheta">RoPE base.</param>
/// <param name="Source">Where the shape comes from.</param>
public sealed record ModelPreset(
    ModelGeometry Geometry, int Hidden, int QueryHeads, int Intermediate, int Vocab, double RopeTheta, string Source)
{
    /// <summary>Preset name.</summary>
    public string Name => Geometry.Name;

    /// <summary>Every preset, by name.</summary>
    public static IReadOnlyList<ModelPreset> All { get; } =
    [
        // A test model of our own: small enough that the reference prefill runs in milliseconds on 2 cores.
        new(new ModelGeometry("tiny", layers: 4, kvHeads: 2, headDim: 32, KvDType.Fp32), Hidden: 128, QueryHeads: 4,
            Intermediate: 256, Vocab: 4096, RopeTheta: 10000, Source: "KvTier test model"),
        new(new ModelGeometry("llama-3.2-1b", 16, 8, 64, KvDType.Bf16), 2048, 32, 8192, 128256, 500000,
            "meta-llama/Llama-3.2-1B config.json"),
        new(new ModelGeometry("llama-3.1-8b", 32, 8, 128, KvDType.Bf16), 4096, 32, 14336, 128256, 500000,
            "meta-llama/Llama-3.1-8B config.json"),
        new(new ModelGeometry("llama-3.1-70b", 80, 8, 128, KvDType.Bf16), 8192, 64, 28672, 128256, 500000,
            "meta-llama/Llama-3.1-70B config.json"),
        new(new ModelGeometry("qwen2.5-7b", 28, 4, 128, KvDType.Bf16), 3584, 28, 18944, 152064, 1000000,
            "Qwen/Qwen2.5-7B config.json"),
    ];

    /// <summary>Names of every preset, for messages.</summary>
    public static string Names => string.Join(", ", All.Select(p => p.Name));

    /// <summary>Finds a preset by name (case-insensitive).</summary>
    public static ModelPreset Get(string name) =>
        All.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"unknown model preset '{name}': use one of {Names}.", nameof(name));
}
