using Google.Protobuf;
using KvTier.Core;
using Rpc = KvTier.Protos.V1;

namespace KvTier.Client;

public sealed partial class KvTierClient
{
    private Rpc.Engine.EngineClient? _engine;

    private Rpc.Engine.EngineClient Engine => _engine ??= new Rpc.Engine.EngineClient(_channel);

    /// <summary>Registers an engine's KV pool that lives in a shared-memory file; returns the pool id.</summary>
    public async Task<string> RegisterPoolAsync(ModelGeometry geometry, Rpc.PoolLayout layout, int numBlocks, string shmPath,
        int enginePid = 0, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        var response = await Engine.RegisterPoolAsync(new Rpc.RegisterPoolRequest
        {
            Geometry = new Rpc.Geometry
            {
                Model = geometry.Name,
                Layers = (uint)geometry.Layers,
                KvHeads = (uint)geometry.KvHeads,
                HeadDim = (uint)geometry.HeadDim,
                Dtype = geometry.DType.ToString().ToLowerInvariant(),
                BlockTokens = (uint)geometry.BlockTokens,
            },
            Layout = layout,
            NumBlocks = (uint)numBlocks,
            ShmPath = shmPath,
            EnginePid = enginePid,
        }, _headers, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.PoolId;
    }

    /// <summary>Copies the blocks in <paramref name="blocks"/>' slots into the sidecar; one result per block.</summary>
    public async Task<Rpc.BlockResult[]> OffloadAsync(string poolId, IReadOnlyList<(BlockKey Key, int Slot)> blocks, TimeSpan? ttl = null,
        CancellationToken cancellationToken = default)
    {
        var request = TransferRequest(poolId, blocks);
        request.TtlSeconds = ttl is { } t ? (uint)Math.Max(1, Math.Ceiling(t.TotalSeconds)) : 0;
        var response = await Engine.OffloadAsync(request, _headers, cancellationToken: cancellationToken).ConfigureAwait(false);
        return [.. response.Results];
    }

    /// <summary>Copies cached blocks into the given slots; a block that is not OK leaves its slot untouched.</summary>
    public async Task<Rpc.BlockResult[]> OnloadAsync(string poolId, IReadOnlyList<(BlockKey Key, int Slot)> blocks,
        CancellationToken cancellationToken = default)
    {
        var response = await Engine.OnloadAsync(TransferRequest(poolId, blocks), _headers, cancellationToken: cancellationToken).ConfigureAwait(false);
        return [.. response.Results];
    }

    /// <summary>Releases a pool registration.</summary>
    public async Task UnregisterPoolAsync(string poolId, CancellationToken cancellationToken = default) =>
        await Engine.UnregisterPoolAsync(new Rpc.PoolRequest { PoolId = poolId }, _headers, cancellationToken: cancellationToken).ConfigureAwait(false);

    private static Rpc.TransferRequest TransferRequest(string poolId, IReadOnlyList<(BlockKey Key, int Slot)> blocks)
    {
        var request = new Rpc.TransferRequest { PoolId = poolId };
        foreach (var (key, slot) in blocks)
        {
            request.Blocks.Add(new Rpc.BlockSlot { Key = ByteString.CopyFrom(key.AsSpan()), Slot = (uint)slot });
        }

        return request;
    }
}
