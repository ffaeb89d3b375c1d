namespace KvTier.Store;

/// <summary>
/// Receives a block's stored payload in place (see <see cref="IBlockStore.Lend{TState}"/>). The span is valid only during
/// the call, and the store cannot reclaim log memory until the call returns: do bounded work, never wait on I/O,
/// and do not call the store (a put there could wait for the very memory this call holds).
/// </summary>
public delegate void BlockLender<TState>(in BlockInfo info, ReadOnlySpan<byte> payload, ref TState state)
    where TState : allows ref struct;
