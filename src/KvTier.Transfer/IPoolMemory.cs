namespace KvTier.Transfer;

/// <summary>The memory behind an engine's KV pool, mapped into this process.</summary>
public unsafe interface IPoolMemory : IDisposable
{
    /// <summary>Start of the pool in this process's address space (host-accessible pools only).</summary>
    byte* Pointer { get; }

    /// <summary>Bytes mapped.</summary>
    long Length { get; }

    /// <summary>False once the engine that owns the pool is gone (its file removed, its process dead).</summary>
    bool IsAlive { get; }
}
