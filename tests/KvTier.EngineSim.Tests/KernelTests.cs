namespace KvTier.EngineSim.Tests;

/// <summary>RMSNorm, RoPE, softmax and SwiGLU against hand-computed values.</summary>
public sealed class KernelTests
{
    [Fact]
    public void Rms_norm_divides_by_root_mean_square_and_applies_the_weight()
    {
        // mean(3², 4²) = 12.5; rms = sqrt(12.5 + 1e-5).
        float[] x = [3, 4];
        float[] weight = [1, 2];
        var y = new float[2];

        Kernels.RmsNorm(x, weight, y);

        var rms = MathF.Sqrt(12.5f + Kernels.RmsEpsilon);
        Assert.Equal(3 / rms, y[0], 5);
        Assert.Equal(2 * 4 / rms, y[1], 5);
    }

    [Fact]
    public void Rope_at_position_zero_is_the_identity()
    {
        var inverse = Kernels.RopeInverseFrequencies(8, 10000);
        var cos = new float[4];
        var sin = new float[4];
        Kernels.RopeAngles(0, inverse, cos, sin);
        float[] heads = [1, 2, 3, 4, 5, 6, 7, 8, -1, -2, -3, -4, -5, -6, -7, -8];
        var before = (float[])heads.Clone();

        Kernels.ApplyRope(heads, 8, cos, sin);

        Assert.Equal(before, heads);
    }

    [Fact]
    public void Rope_rotates_element_i_with_element_i_plus_half_by_position_times_frequency()
    {
        // headDim 4: frequencies 1 and 1/sqrt(100) = 0.1 for theta 100; position 1.
        var inverse = Kernels.RopeInverseFrequencies(4, 100);
        Assert.Equal([1.0, 0.1], inverse, (a, b) => Math.Abs(a - b) < 1e-15);
        var cos = new float[2];
        var sin = new float[2];
        Kernels.RopeAngles(1, inverse, cos, sin);
        float[] head = [1, 0, 0, 1];

        Kernels.ApplyRope(head, 4, cos, sin);

        // Pair (x0, x2) = (1, 0) turns by 1 rad; pair (x1, x3) = (0, 1) turns by 0.1 rad.
        Assert.Equal(MathF.Cos(1), head[0], 6);
        Assert.Equal(-MathF.Sin(0.1f), head[1], 6);
        Assert.Equal(MathF.Sin(1), head[2], 6);
        Assert.Equal(MathF.Cos(0.1f), head[3], 6);
    }

    [Fact]
    public void Rope_keeps_each_pair_s_length()
    {
        var inverse = Kernels.RopeInverseFrequencies(32, 10000);
        var cos = new float[16];
        var sin = new float[16];
        Kernels.RopeAngles(777, inverse, cos, sin);
        var head = Enumerable.Range(1, 32).Select(i => (float)i).ToArray();
        var before = (float[])head.Clone();

        Kernels.ApplyRope(head, 32, cos, sin);

        for (var i = 0; i < 16; i++)
        {
            var lengthBefore = MathF.Sqrt((before[i] * before[i]) + (before[i + 16] * before[i + 16]));
            var lengthAfter = MathF.Sqrt((head[i] * head[i]) + (head[i + 16] * head[i + 16]));
            Assert.Equal(lengthBefore, lengthAfter, 3);
        }
    }

    [Fact]
    public void Softmax_of_equal_logits_is_uniform()
    {
        var logits = Enumerable.Repeat(3.5f, 10).ToArray();

        Kernels.Softmax(logits);

        Assert.All(logits, p => Assert.Equal(0.1f, p, 6));
    }

    [Fact]
    public void Softmax_matches_hand_computed_values_and_survives_huge_logits()
    {
        // softmax(0, ln 3) = (1/4, 3/4); shifting by 1000 must not overflow (max subtraction).
        float[] logits = [1000, 1000 + MathF.Log(3)];

        Kernels.Softmax(logits);

        Assert.Equal(0.25f, logits[0], 4);
        Assert.Equal(0.75f, logits[1], 4);
    }

    [Fact]
    public void Swiglu_is_silu_of_gate_times_up()
    {
        float[] gate = [0, 1, -2];
        float[] up = [5, 2, 3];
        var scratch = new float[3];

        Kernels.SwiGlu(gate, up, scratch);

        Assert.Equal(0f, gate[0], 6);
        Assert.Equal(2 * (1 / (1 + MathF.Exp(-1))), gate[1], 5);
        Assert.Equal(3 * (-2 / (1 + MathF.Exp(2))), gate[2], 5);
    }

    [Fact]
    public void Mat_vec_takes_one_row_per_output()
    {
        float[] weights = [1, 2, 3, 4, 5, 6];
        float[] x = [1, 0, -1];
        var y = new float[2];

        Kernels.MatVec(weights, x, y);

        Assert.Equal([-2f, -2f], y);
    }
}
