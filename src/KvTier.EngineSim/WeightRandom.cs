namespace KvTier.EngineSim;

/// <summary>
/// xoshiro256** seeded through SplitMix64: a small generator whose output depends only on the seed, never on the
/// runtime version (unlike <see cref="System.Random"/>), so that weights stay the same wherever the model is built.
/// </summary>
internal struct WeightRandom
{
    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;

    /// <summary>A generator for one tensor: the model seed and the tensor's id pick independent streams.</summary>
    public WeightRandom(int seed, int tensorId)
    {
        var x = ((ulong)(uint)seed << 32) | (uint)tensorId;
        _s0 = SplitMix64(ref x);
        _s1 = SplitMix64(ref x);
        _s2 = SplitMix64(ref x);
        _s3 = SplitMix64(ref x);
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        var result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>A float uniform in [-1, 1), exact (24 random bits, no rounding).</summary>
    public float NextSymmetric() => ((NextUInt64() >> 40) * (1.0f / (1 << 23))) - 1.0f;

    /// <summary>Fills <paramref name="destination"/> with values uniform in [-scale, scale).</summary>
    public void Fill(Span<float> destination, float scale)
    {
        for (var i = 0; i < destination.Length; i++)
        {
            destination[i] = NextSymmetric() * scale;
        }
    }

    private static ulong SplitMix64(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
