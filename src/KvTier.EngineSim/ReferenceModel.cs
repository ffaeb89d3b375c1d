using System.Diagnostics;
using System.Numerics.Tensors;
using KvTier.Core;

namespace KvTier.EngineSim;

/// <summary>
/// A real, small decoder-only transformer (Llama-style: RMSNorm, rotate-half RoPE, grouped-query attention, SwiGLU)
/// whose weights come deterministically from a seed. Its prefill reads the K/V of cached positions from a
/// <see cref="KvBuffer"/> instead of recomputing them, and writes the K/V of the new positions there, so that
/// blocks fetched from the cache can be proven to be exactly what the model computed.
/// </summary>
/// <remarks>
/// <para>
/// Determinism: every position's row is computed on its own, in position order, with reductions whose order
/// depends only on the model's shape and the position (never on how many tokens a call processes or where the
/// cached prefix ends). The same tokens give bit-identical K/V on the same machine and runtime; prefilling after a
/// cached prefix copied from a full run gives K/V bit-identical to that run, and JIT tier-up does not change a bit.
/// Across instruction sets the last bits do differ: TensorPrimitives picks AVX-512, AVX2 or SSE at run time and the
/// reduction order follows the vector width, so compare blocks computed on machines with the same instruction set.
/// </para>
/// <para>
/// RoPE is the rotate-half variant (GPT-NeoX / Hugging Face Llama): element i of a head pairs with element
/// i + headDim/2, angles <c>position · theta^(-2i/headDim)</c> computed in double and rounded to float once.
/// K is cached after RoPE, as engines cache it.
/// </para>
/// <para>Single-threaded and not thread-safe: one instance reuses its scratch buffers across calls.</para>
/// </remarks>
public sealed class ReferenceModel
{
    /// <summary>The default cap on fp32 weight bytes: 2 GiB.</summary>
    public const long DefaultMaxWeightBytes = 2L << 30;

    private readonly float[] _embedding;
    private readonly LayerWeights[] _layers;
    private readonly double[] _ropeInverseFrequencies;
    private readonly int _hidden;
    private readonly int _queryHeads;
    private readonly int _kvHeads;
    private readonly int _headDim;
    private readonly int _groupSize;
    private readonly float _attentionScale;

    // Scratch, reused by every row: no allocation on the hot path.
    private readonly float[] _x;
    private readonly float[] _normed;
    private readonly float[] _q;
    private readonly float[] _k;
    private readonly float[] _v;
    private readonly float[] _attention;
    private readonly float[] _projected;
    private readonly float[] _gate;
    private readonly float[] _up;
    private readonly float[] _sigmoid;
    private readonly float[] _cos;
    private readonly float[] _sin;
    private float[] _scores = new float[256];

    /// <summary>Builds the model for <paramref name="preset"/> with weights drawn from <paramref name="seed"/>.</summary>
    /// <param name="preset">The model shape.</param>
    /// <param name="seed">Weight seed: the same seed always gives the same weights.</param>
    /// <param name="maxWeightBytes">Refuse presets whose fp32 weights exceed this many bytes.</param>
    /// <exception cref="ArgumentException">The preset's weights exceed the cap, or its shape is unusable.</exception>
    public ReferenceModel(ModelPreset preset, int seed = 0, long maxWeightBytes = DefaultMaxWeightBytes)
    {
        ArgumentNullException.ThrowIfNull(preset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxWeightBytes);
        var g = preset.Geometry;
        Validate(preset);
        WeightBytes = WeightBytesOf(preset);
        if (WeightBytes > maxWeightBytes)
        {
            throw new ArgumentException(
                $"model preset '{preset.Name}' needs {ByteSize.Format(WeightBytes)} of fp32 weights, over the reference "
                + $"engine's cap of {ByteSize.Format(maxWeightBytes)}. The reference engine is a CPU float32 model: "
                + "in practice only the 'tiny' preset runs on a 2-core machine; use --preset tiny (or raise the cap).",
                nameof(preset));
        }

        Preset = preset;
        Seed = seed;
        Geometry = new ModelGeometry(g.Name, g.Layers, g.KvHeads, g.HeadDim, KvDType.Fp32, g.BlockTokens);
        _hidden = preset.Hidden;
        _queryHeads = preset.QueryHeads;
        _kvHeads = g.KvHeads;
        _headDim = g.HeadDim;
        _groupSize = preset.QueryHeads / g.KvHeads;
        _attentionScale = 1.0f / MathF.Sqrt(g.HeadDim);
        _ropeInverseFrequencies = Kernels.RopeInverseFrequencies(g.HeadDim, preset.RopeTheta);

        _embedding = LayerWeights.Matrix(preset.Vocab, preset.Hidden, seed, tensorId: 0);
        _layers = new LayerWeights[g.Layers];
        for (var layer = 0; layer < g.Layers; layer++)
        {
            _layers[layer] = new LayerWeights(preset, layer, seed);
        }

        var qWidth = _queryHeads * _headDim;
        var kvWidth = _kvHeads * _headDim;
        _x = new float[_hidden];
        _normed = new float[_hidden];
        _q = new float[qWidth];
        _k = new float[kvWidth];
        _v = new float[kvWidth];
        _attention = new float[qWidth];
        _projected = new float[_hidden];
        _gate = new float[preset.Intermediate];
        _up = new float[preset.Intermediate];
        _sigmoid = new float[preset.Intermediate];
        _cos = new float[_headDim / 2];
        _sin = new float[_headDim / 2];
    }

    /// <summary>The model shape.</summary>
    public ModelPreset Preset { get; }

    /// <summary>The weight seed.</summary>
    public int Seed { get; }

    /// <summary>
    /// The KV geometry this model writes: the preset's, with fp32 elements (for fp32 presets such as 'tiny', the
    /// preset's own geometry).
    /// </summary>
    public ModelGeometry Geometry { get; }

    /// <summary>Bytes of the fp32 weights.</summary>
    public long WeightBytes { get; }

    /// <summary>Bytes of fp32 weights a preset needs: embedding plus every layer.</summary>
    public static long WeightBytesOf(ModelPreset preset)
    {
        ArgumentNullException.ThrowIfNull(preset);
        var elements = ((long)preset.Vocab * preset.Hidden) + (preset.Geometry.Layers * LayerWeights.Elements(preset));
        return elements * sizeof(float);
    }

    /// <summary>A KV buffer shaped for this model.</summary>
    public KvBuffer CreateKvBuffer(int capacityTokens) => new(Geometry, capacityTokens);

    /// <summary>
    /// Runs every layer for positions [<paramref name="cachedTokens"/>, tokens.Length). Attention reads the K/V of
    /// positions [0, cachedTokens) from <paramref name="kv"/> (loaded from the cache, not recomputed) and the new
    /// positions' K (after RoPE) and V are written into <paramref name="kv"/>.
    /// </summary>
    public void Prefill(ReadOnlySpan<int> tokens, int cachedTokens, KvBuffer kv)
    {
        ArgumentNullException.ThrowIfNull(kv);
        CheckBuffer(kv);
        if (tokens.Length > kv.CapacityTokens)
        {
            throw new ArgumentException(
                $"{tokens.Length} tokens do not fit a KV buffer of {kv.CapacityTokens} tokens.", nameof(tokens));
        }

        if ((uint)cachedTokens > (uint)tokens.Length)
        {
            throw new ArgumentOutOfRangeException(
                nameof(cachedTokens), cachedTokens, $"cachedTokens must be in [0, {tokens.Length}] (the prompt length).");
        }

        for (var i = cachedTokens; i < tokens.Length; i++)
        {
            if ((uint)tokens[i] >= (uint)Preset.Vocab)
            {
                throw new ArgumentOutOfRangeException(
                    nameof(tokens), tokens[i], $"token {i} is {tokens[i]}, outside the vocabulary [0, {Preset.Vocab}).");
            }
        }

        if (_scores.Length < tokens.Length)
        {
            _scores = new float[Math.Max(tokens.Length, _scores.Length * 2)];
        }

        for (var position = cachedTokens; position < tokens.Length; position++)
        {
            ForwardRow(tokens[position], position, kv);
        }
    }

    /// <summary>
    /// Times a prefill of <paramref name="tokens"/> synthetic tokens from empty and returns prefilled tokens per
    /// second, the benchmark's <c>prefill_tokens_per_s</c>. Prefills of up to 256 tokens run first for about
    /// <paramref name="warmUp"/> (default 1 s) so that the JIT has promoted the hot loops, TensorPrimitives' long-span
    /// paths included, to optimised code: a cold first run is 2–4× slower.
    /// </summary>
    public double MeasureTokensPerSecond(int tokens, TimeSpan? warmUp = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tokens);
        var prompt = SyntheticTokens(tokens, Preset.Vocab, Seed);
        var kv = CreateKvBuffer(tokens);
        var warmUpFor = warmUp ?? TimeSpan.FromSeconds(1);
        var stopwatch = Stopwatch.StartNew();
        do
        {
            Prefill(prompt.AsSpan(0, Math.Min(tokens, 256)), 0, kv);
        }
        while (stopwatch.Elapsed < warmUpFor);

        kv.Clear();
        stopwatch.Restart();
        Prefill(prompt, 0, kv);
        return tokens / stopwatch.Elapsed.TotalSeconds;
    }

    /// <summary>Deterministic pseudo-random token ids in [0, vocab), for tests and benchmarks.</summary>
    public static int[] SyntheticTokens(int count, int vocab, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocab);
        var random = new WeightRandom(seed, int.MaxValue);
        var tokens = new int[count];
        for (var i = 0; i < count; i++)
        {
            tokens[i] = (int)(random.NextUInt64() % (ulong)vocab);
        }

        return tokens;
    }

    private void ForwardRow(int token, int position, KvBuffer kv)
    {
        _embedding.AsSpan(token * _hidden, _hidden).CopyTo(_x);
        Kernels.RopeAngles(position, _ropeInverseFrequencies, _cos, _sin);
        for (var layer = 0; layer < _layers.Length; layer++)
        {
            var w = _layers[layer];

            // Attention block.
            Kernels.RmsNorm(_x, w.AttentionNorm, _normed);
            Kernels.MatVec(w.Wq, _normed, _q);
            Kernels.MatVec(w.Wk, _normed, _k);
            Kernels.MatVec(w.Wv, _normed, _v);
            Kernels.ApplyRope(_q, _headDim, _cos, _sin);
            Kernels.ApplyRope(_k, _headDim, _cos, _sin);
            _k.CopyTo(kv.Key(layer, position));
            _v.CopyTo(kv.Value(layer, position));
            Attend(kv.Keys(layer), kv.Values(layer), position);
            Kernels.MatVec(w.Wo, _attention, _projected);
            TensorPrimitives.Add(_x, _projected, _x);

            // MLP block.
            Kernels.RmsNorm(_x, w.MlpNorm, _normed);
            Kernels.MatVec(w.WGate, _normed, _gate);
            Kernels.MatVec(w.WUp, _normed, _up);
            Kernels.SwiGlu(_gate, _up, _sigmoid);
            Kernels.MatVec(w.WDown, _gate, _projected);
            TensorPrimitives.Add(_x, _projected, _x);
        }
    }

    /// <summary>
    /// Causal grouped-query attention of the current row (query <see cref="_q"/> at <paramref name="position"/>)
    /// over K/V positions [0, position], read from the layer's cache.
    /// </summary>
    private void Attend(ReadOnlySpan<float> keys, ReadOnlySpan<float> values, int position)
    {
        var stride = _kvHeads * _headDim;
        var scores = _scores.AsSpan(0, position + 1);
        for (var h = 0; h < _queryHeads; h++)
        {
            var kvOffset = h / _groupSize * _headDim;
            var query = _q.AsSpan(h * _headDim, _headDim);
            for (var j = 0; j <= position; j++)
            {
                scores[j] = TensorPrimitives.Dot(query, keys.Slice((j * stride) + kvOffset, _headDim)) * _attentionScale;
            }

            Kernels.Softmax(scores);
            var output = _attention.AsSpan(h * _headDim, _headDim);
            output.Clear();
            for (var j = 0; j <= position; j++)
            {
                TensorPrimitives.MultiplyAdd(values.Slice((j * stride) + kvOffset, _headDim), scores[j], output, output);
            }
        }
    }

    private void CheckBuffer(KvBuffer kv)
    {
        var g = kv.Geometry;
        if (g.Layers != Geometry.Layers || g.KvHeads != Geometry.KvHeads || g.HeadDim != Geometry.HeadDim)
        {
            throw new ArgumentException(
                $"KV buffer geometry ({g}) does not match the model ({Geometry}).", nameof(kv));
        }
    }

    private static void Validate(ModelPreset preset)
    {
        var g = preset.Geometry;
        if (preset.Hidden <= 0 || preset.QueryHeads <= 0 || preset.Intermediate <= 0 || preset.Vocab <= 0)
        {
            throw new ArgumentException(
                $"model preset '{preset.Name}' has a non-positive size (hidden, query heads, intermediate or vocab).",
                nameof(preset));
        }

        if (preset.QueryHeads % g.KvHeads != 0)
        {
            throw new ArgumentException(
                $"model preset '{preset.Name}': {preset.QueryHeads} query heads are not a multiple of {g.KvHeads} KV heads.",
                nameof(preset));
        }

        if (g.HeadDim % 2 != 0)
        {
            throw new ArgumentException(
                $"model preset '{preset.Name}': head dim {g.HeadDim} is odd; rotate-half RoPE needs it even.",
                nameof(preset));
        }

        if (!(preset.RopeTheta > 1))
        {
            throw new ArgumentException(
                $"model preset '{preset.Name}': RoPE theta {preset.RopeTheta} must be greater than 1.", nameof(preset));
        }
    }
}
