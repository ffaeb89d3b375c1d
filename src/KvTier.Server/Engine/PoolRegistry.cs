using System.Collections.Concurrent;
using KvTier.Transfer;
using Microsoft.Extensions.Logging;

namespace KvTier.Server.Engine;

/// <summary>
/// The pools engines have registered. A pool whose engine died (file removed, process gone) is dropped the next time
/// anyone touches it: its mapping is released and its id answers "gone".
/// </summary>
public sealed class PoolRegistry(ILogger logger) : IDisposable
{
    private readonly ConcurrentDictionary<string, RegisteredPool> _pools = new();
    private long _next;

    /// <summary>Registers a mapped pool and returns it with its new id.</summary>
    public RegisteredPool Add(KvPoolSpec spec, IPoolMemory memory) => Add(spec, memory, "default");

    /// <summary>Registers a mapped pool of <paramref name="tenant"/> and returns it with its new id.</summary>
    public RegisteredPool Add(KvPoolSpec spec, IPoolMemory memory, string tenant)
    {
        var pool = new RegisteredPool($"pool-{Interlocked.Increment(ref _next)}", spec, memory, tenant);
        _pools[pool.Id] = pool;
        EngineLog.PoolRegistered(logger, pool.Id, spec.Layout, spec.NumBlocks, spec.BlockBytes);
        return pool;
    }

    /// <summary>The live pool <paramref name="id"/>; throws <see cref="PoolGoneException"/> otherwise.</summary>
    public RegisteredPool Get(string id) => Get(id, tenant: null);

    /// <summary>
    /// The live pool <paramref name="id"/> of <paramref name="tenant"/> (any tenant's when null); another tenant's pool
    /// is "not registered", as if it did not exist.
    /// </summary>
    public RegisteredPool Get(string id, string? tenant)
    {
        if (!_pools.TryGetValue(id, out var pool) || (tenant is not null && pool.Tenant != tenant))
        {
            throw new PoolGoneException(id, "is not registered");
        }

        if (!pool.IsAlive)
        {
            Drop(pool, "its engine is gone");
            throw new PoolGoneException(id, "was dropped because its engine is gone");
        }

        return pool;
    }

    /// <summary>Unregisters a pool; false when it was not registered.</summary>
    public bool Remove(string id) => Remove(id, tenant: null);

    /// <summary>Unregisters a pool of <paramref name="tenant"/> (any tenant's when null); false when it was not registered (to that tenant).</summary>
    public bool Remove(string id, string? tenant)
    {
        if (!_pools.TryGetValue(id, out var pool) || (tenant is not null && pool.Tenant != tenant) || !_pools.TryRemove(KeyValuePair.Create(id, pool)))
        {
            return false;
        }

        pool.Dispose();
        return true;
    }

    /// <summary>Drops every pool whose engine is gone; returns how many.</summary>
    public int Sweep()
    {
        var dropped = 0;
        foreach (var pool in _pools.Values.Where(p => !p.IsAlive))
        {
            Drop(pool, "its engine is gone");
            dropped++;
        }

        return dropped;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var id in _pools.Keys)
        {
            Remove(id);
        }
    }

    private void Drop(RegisteredPool pool, string reason)
    {
        if (_pools.TryRemove(pool.Id, out _))
        {
            EngineLog.PoolDropped(logger, pool.Id, reason);
            pool.Dispose();
        }
    }
}
