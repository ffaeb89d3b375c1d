using KvTier.Core;

namespace KvTier.EngineSim;

/// <summary>One decoder layer's weights; matrices are row-major [outputs][inputs].</summary>
internal sealed class LayerWeights
{
    public LayerWeights(ModelPreset preset, int layer, int seed)
    {
        var g = preset.Geometry;
        var hidden = preset.Hidden;
        var qWidth = preset.QueryHeads * g.HeadDim;
        var kvWidth = g.KvHeads * g.HeadDim;
        var id = 16 * (layer + 1);
        AttentionNorm = NormWeight(hidden, seed, id);
        Wq = Matrix(qWidth, hidden, seed, id + 1);
        Wk = Matrix(kvWidth, hidden, seed, id + 2);
        Wv = Matrix(kvWidth, hidden, seed, id + 3);
        Wo = Matrix(hidden, qWidth, seed, id + 4);
        MlpNorm = NormWeight(hidden, seed, id + 5);
        WGate = Matrix(preset.Intermediate, hidden, seed, id + 6);
        WUp = Matrix(preset.Intermediate, hidden, seed, id + 7);
        WDown = Matrix(hidden, preset.Intermediate, seed, id + 8);
    }

    public float[] AttentionNorm { get; }
    public float[] Wq { get; }
    public float[] Wk { get; }
    public float[] Wv { get; }
    public float[] Wo { get; }
    public float[] MlpNorm { get; }
    public float[] WGate { get; }
    public float[] WUp { get; }
    public float[] WDown { get; }

    /// <summary>fp32 weight elements of one layer of <paramref name="preset"/>.</summary>
    public static long Elements(ModelPreset preset)
    {
        long hidden = preset.Hidden;
        long qWidth = (long)preset.QueryHeads * preset.Geometry.HeadDim;
        long kvWidth = (long)preset.Geometry.KvHeads * preset.Geometry.HeadDim;
        return (2 * hidden) + (2 * qWidth * hidden) + (2 * kvWidth * hidden) + (3L * preset.Intermediate * hidden);
    }

    /// <summary>
    /// A [rows][columns] matrix uniform in ±sqrt(3/columns): variance 1/fan_in, so activations keep their scale.
    /// </summary>
    internal static float[] Matrix(int rows, int columns, int seed, int tensorId)
    {
        var values = new float[checked(rows * columns)];
        new WeightRandom(seed, tensorId).Fill(values, MathF.Sqrt(3.0f / columns));
        return values;
    }

    /// <summary>RMSNorm gains around 1 (1 ± 0.25) so that the norm weight really takes part in the math.</summary>
    private static float[] NormWeight(int size, int seed, int tensorId)
    {
        var values = new float[size];
        var random = new WeightRandom(seed, tensorId);
        for (var i = 0; i < size; i++)
        {
            values[i] = 1.0f + (0.25f * random.NextSymmetric());
        }

        return values;
    }
}
