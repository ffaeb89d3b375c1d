using KvTier.Transfer;

namespace KvTier.Server.Engine;

/// <summary>An engine's KV pool mapped into the sidecar, owned by the tenant whose key registered it.</summary>
public sealed class RegisteredPool(string id, KvPoolSpec spec, IPoolMemory memory, string tenant = "default") : IDisposable
{
    private int _disposed;

    /// <summary>The tenant that registered it: only that tenant's calls may use it.</summary>
    public string Tenant { get; } = tenant;

    /// <summary>The id the engine uses in Offload/Onload.</summary>
    public string Id { get; } = id;

    /// <summary>Geometry, layout, size.</summary>
    public KvPoolSpec Spec { get; } = spec;

    /// <summary>The mapped memory.</summary>
    public IPoolMemory Memory { get; } = memory;

    /// <summary>Geometry fingerprint stamped on (and checked against) every block of this pool.</summary>
    public ulong Fingerprint { get; } = spec.Geometry.Fingerprint;

    /// <summary>False once the engine is gone or the pool was unregistered.</summary>
    public bool IsAlive => Volatile.Read(ref _disposed) == 0 && Memory.IsAlive;

    /// <inheritdoc/>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Memory.Dispose();
        }
    }
}
