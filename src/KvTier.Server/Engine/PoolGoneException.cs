namespace KvTier.Server.Engine;

/// <summary>The pool is unknown, unregistered, or its engine has died (the pool was dropped).</summary>
public sealed class PoolGoneException(string poolId, string reason)
    : Exception($"pool '{poolId}' {reason}: register the pool again (RegisterPool) after the engine restarts.")
{
    /// <summary>The pool asked for.</summary>
    public string PoolId { get; } = poolId;
}
