using System.Collections.Concurrent;
using KvTier.Core;
using KvTier.Policy;

namespace KvTier.Server;

/// <summary>
/// One planner per (tenant, model, device), over one set of learned link costs per tenant: Lookup asks it for a
/// fetch-vs-recompute plan, ReportTiming teaches it real prefill and fetch times. Tenants learn apart, so one tenant's
/// reports never steer another's plans.
/// </summary>
public sealed class PlanningService(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, LinkCostModel> _links = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Tenant, string Model, string Device), Planner> _planners = new();

    /// <summary>In-flight prefill leases this node keeps (a holder that stops renewing loses its lease after 30 s).</summary>
    public InflightLeases Leases { get; } = new(time, TimeSpan.FromSeconds(30));

    /// <summary>The planner of tenant <c>default</c> (the only one without API keys); see <see cref="For(string, string, string)"/>.</summary>
    public Planner For(string model, string device) => For(Auth.Namespaces.Default, model, device);

    /// <summary>
    /// The planner of a tenant, a model preset and a prefill profile device; throws <see cref="ArgumentException"/>
    /// naming the known presets or profiles.
    /// </summary>
    public Planner For(string tenant, string model, string device) =>
        _planners.GetOrAdd((tenant, model.ToLowerInvariant(), device.ToLowerInvariant()), key =>
        {
            var geometry = ModelPreset.Get(key.Model).Geometry;
            var links = _links.GetOrAdd(key.Tenant, _ => new LinkCostModel(time));
            var cost = new CostModel(geometry, new PrefillCostModel(PrefillProfile.Get(key.Model, key.Device)), links);
            return new Planner(cost);
        });

    /// <summary>The cost model of a source as the planner sees it.</summary>
    public static FetchSource Source(string node) => node.Length == 0 ? FetchSource.LocalDram : FetchSource.Peer(node);
}
