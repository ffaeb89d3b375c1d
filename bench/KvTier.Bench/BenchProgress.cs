namespace KvTier.Bench;

/// <summary>One step of a long benchmark: which phase, and how far through it (0..1).</summary>
public readonly record struct BenchProgress(string Phase, double Fraction);
