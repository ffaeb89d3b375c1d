using System.Numerics.Tensors;

namespace KvTier.EngineSim;

/// <summary>
/// The row kernels of the reference prefill. Each works on one token's vector and reduces in an order that depends
/// only on the vector lengths, never on how many tokens a call processes: that is what makes K/V bit-identical
/// whether a prefix was computed or loaded from the cache.
/// </summary>
internal static class Kernels
{
    /// <summary>RMSNorm epsilon (Llama's value).</summary>
    public const float RmsEpsilon = 1e-5f;

    /// <summary>
    /// <c>y = x / sqrt(mean(x²) + eps) ⊙ weight</c>. <paramref name="destination"/> may not overlap
    /// <paramref name="x"/> partially (it may be the same span).
    /// </summary>
    public static void RmsNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, Span<float> destination)
    {
        var meanSquare = TensorPrimitives.SumOfSquares(x) / x.Length;
        var inverseRms = 1.0f / MathF.Sqrt(meanSquare + RmsEpsilon);
        TensorPrimitives.Multiply(x, inverseRms, destination);
        TensorPrimitives.Multiply(destination, weight, destination);
    }

    /// <summary>
    /// <c>y[o] = dot(W[o, :], x)</c> with W stored row-major as [outputs][inputs] (one contiguous row per output).
    /// </summary>
    public static void MatVec(ReadOnlySpan<float> weights, ReadOnlySpan<float> x, Span<float> destination)
    {
        var inputs = x.Length;
        for (var o = 0; o < destination.Length; o++)
        {
            destination[o] = TensorPrimitives.Dot(weights.Slice(o * inputs, inputs), x);
        }
    }

    /// <summary>
    /// The inverse frequencies of rotate-half RoPE: <c>theta^(-2i/headDim)</c> for i in [0, headDim/2), in double.
    /// </summary>
    public static double[] RopeInverseFrequencies(int headDim, double theta)
    {
        var half = headDim / 2;
        var inverse = new double[half];
        for (var i = 0; i < half; i++)
        {
            inverse[i] = 1.0 / Math.Pow(theta, 2.0 * i / headDim);
        }

        return inverse;
    }

    /// <summary>
    /// cos and sin of <c>position · inverseFrequency[i]</c>, computed in double and rounded to float once.
    /// </summary>
    public static void RopeAngles(int position, ReadOnlySpan<double> inverseFrequencies, Span<float> cos, Span<float> sin)
    {
        for (var i = 0; i < inverseFrequencies.Length; i++)
        {
            var angle = position * inverseFrequencies[i];
            cos[i] = (float)Math.Cos(angle);
            sin[i] = (float)Math.Sin(angle);
        }
    }

    /// <summary>
    /// Rotate-half (GPT-NeoX / Hugging Face Llama) RoPE on every head of <paramref name="heads"/> in place: element
    /// i pairs with element i + headDim/2, <c>(a, b) → (a·cos − b·sin, b·cos + a·sin)</c>.
    /// </summary>
    public static void ApplyRope(Span<float> heads, int headDim, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin)
    {
        var half = headDim / 2;
        for (var start = 0; start < heads.Length; start += headDim)
        {
            var head = heads.Slice(start, headDim);
            for (var i = 0; i < half; i++)
            {
                var a = head[i];
                var b = head[i + half];
                head[i] = (a * cos[i]) - (b * sin[i]);
                head[i + half] = (b * cos[i]) + (a * sin[i]);
            }
        }
    }

    /// <summary>Numerically stable softmax in place: subtract the max, exponentiate, divide by the sum.</summary>
    public static void Softmax(Span<float> logits)
    {
        var max = TensorPrimitives.Max(logits);
        TensorPrimitives.Subtract(logits, max, logits);
        TensorPrimitives.Exp(logits, logits);
        var sum = TensorPrimitives.Sum(logits);
        TensorPrimitives.Divide(logits, sum, logits);
    }

    /// <summary>SwiGLU's gate: <c>gate ← silu(gate) ⊙ up</c>, silu(g) = g·σ(g).</summary>
    public static void SwiGlu(Span<float> gate, ReadOnlySpan<float> up, Span<float> scratch)
    {
        TensorPrimitives.Sigmoid(gate, scratch);
        TensorPrimitives.Multiply(gate, scratch, gate);
        TensorPrimitives.Multiply(gate, up, gate);
    }
}
