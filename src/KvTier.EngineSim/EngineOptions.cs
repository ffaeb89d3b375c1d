namespace KvTier.EngineSim;

/// <summary>How the reference engine uses the sidecar.</summary>
public sealed record EngineOptions
{
    /// <summary>
    /// The prefill profile's device: when set, each Lookup asks for a fetch-vs-recompute plan, the engine follows it and
    /// reports its real prefill and onload times (ReportTiming). Null: fetch whatever is cached.
    /// </summary>
    public string? Device { get; init; }

    /// <summary>Offload newly computed blocks at once, not only when the pool evicts them (as LMCache stores on compute).</summary>
    public bool WriteThrough { get; init; }

    /// <summary>Take the fleet-wide prefill lease before computing a prompt, and wait-then-fetch when another engine holds it.</summary>
    public bool SingleFlight { get; init; }

    /// <summary>
    /// Longest a cold engine waits for another engine's prefill of the same prompt before computing it itself. Default
    /// 10 s: the holder finishing late (a busy GPU) is still cheaper to wait for than a duplicate prefill, and a holder
    /// that dies lets its lease lapse.
    /// </summary>
    public TimeSpan MaxPrefillWait { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>This engine instance's name (the lease holder).</summary>
    public string EngineId { get; init; } = $"engine-{Environment.ProcessId}-{Guid.NewGuid():N}"[..24];
}
