using System.Collections.Concurrent;
using KvTier.Core;
using KvTier.Policy;

namespace KvTier.Server;

/// <summary>
/// One planner per (model, device) over one set of learned link costs for this node: Lookup asks it for a
/// fetch-vs-recompute plan, ReportTiming teaches it real prefill and fetch times.
/// </summary>
public sealed class PlanningService(TimeProvider time)
{
    private readonly LinkCostModel _links = new(time);

    /// <summary>In-flight prefill leases this node keeps (a holder that stops renewing loses its lease after 30 s).</summary>
    public InflightLeases Leases { get; } = new(time, TimeSpan.FromSeconds(30));
    private readonly ConcurrentDictionary<(string Model, string Device), Planner> _planners = new();

    /// <summary>
    /// The planner of a model preset and a prefill profile device; throws <see cref="ArgumentException"/> naming the
    /// known presets or profiles.
    /// </summary>
    public Planner For(string model, string device) =>
        _planners.GetOrAdd((model.ToLowerInvariant(), device.ToLowerInvariant()), key =>
        {
            var geometry = ModelPreset.Get(key.Model).Geometry;
            var cost = new CostModel(geometry, new PrefillCostModel(PrefillProfile.Get(key.Model, key.Device)), _links);
            return new Planner(cost);
        });

    /// <summary>The cost model of a source as the planner sees it.</summary>
    public static FetchSource Source(string node) => node.Length == 0 ? FetchSource.LocalDram : FetchSource.Peer(node);
}
