using System.Diagnostics;
using KvTier.Core;
using KvTier.EngineSim;

namespace KvTier.Bench;

/// <summary>
/// The recompute side measured for real: the reference engine's prefill (<see cref="ReferenceModel"/>, one thread)
/// of P synthetic tokens from nothing, and the one-token step an engine still runs after a full hit (token P with P
/// cached). The KV buffer and prompt are allocated once for the longest prefix.
/// </summary>
internal sealed class CrossoverRecompute
{
    private readonly ReferenceModel _model;
    private readonly int[] _prompt;
    private readonly KvBuffer _kv;

    public CrossoverRecompute(ModelPreset preset, int maxTokens)
    {
        _model = new ReferenceModel(preset);
        _prompt = ReferenceModel.SyntheticTokens(maxTokens + 1, preset.Vocab, seed: 7);
        _kv = _model.CreateKvBuffer(maxTokens + 1);
    }

    /// <summary>Prefills of up to 256 tokens for about <paramref name="time"/>, so the JIT has optimised the hot loops.</summary>
    public void WarmUp(TimeSpan time)
    {
        var watch = Stopwatch.StartNew();
        do
        {
            _model.Prefill(_prompt.AsSpan(0, Math.Min(256, _prompt.Length)), 0, _kv);
        }
        while (watch.Elapsed < time);
    }

    /// <summary>Median ms of <paramref name="runs"/> prefills of <paramref name="tokens"/> tokens, and of the one-token step after them.</summary>
    public (double PrefillMs, double StepMs) Measure(int tokens, int runs)
    {
        var prefill = new double[runs];
        var step = new double[runs];
        for (var run = 0; run < runs; run++)
        {
            var start = Stopwatch.GetTimestamp();
            _model.Prefill(_prompt.AsSpan(0, tokens), 0, _kv);
            prefill[run] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;

            // The K/V of positions < tokens are in the buffer now, as a fetched prefix would be.
            start = Stopwatch.GetTimestamp();
            _model.Prefill(_prompt.AsSpan(0, tokens + 1), tokens, _kv);
            step[run] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        return (Throughput.Median(prefill), Throughput.Median(step));
    }
}
