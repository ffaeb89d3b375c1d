using Google.Protobuf;
using Grpc.Core;
using KvTier.Core;
using KvTier.Server.Auth;
using KvTier.Transfer;
using Microsoft.Extensions.Logging;
using Rpc = KvTier.Protos.V1;

namespace KvTier.Server.Engine;

/// <summary>
/// <c>kvtier.v1.Engine</c>: engines register their paged KV pool, then offload and onload blocks by slot. Bytes move
/// through the mapped pool and pinned staging, never through these messages. A pool belongs to the tenant of the key
/// that registered it; offloads write that tenant's namespace (or shared, for an admin key that asks), onloads read
/// the tenant's blocks, then shared ones.
/// </summary>
internal sealed class EngineService(PoolRegistry pools, TransferPipeline pipeline, ILogger<EngineService> logger) : Rpc.Engine.EngineBase
{
    public override Task<Rpc.RegisterPoolResponse> RegisterPool(Rpc.RegisterPoolRequest request, ServerCallContext context)
    {
        pools.Sweep(); // registration is a good moment to drop pools whose engines died
        var spec = ParseSpec(context, request);
        if (request.MemoryCase == Rpc.RegisterPoolRequest.MemoryOneofCase.CudaIpcHandle)
        {
            throw Reject(context, StatusCode.Unimplemented,
                "cuda_ipc_handle: this node moves blocks on the host path; register the pool as a shared-memory file (shm_path)");
        }

        if (request.MemoryCase != Rpc.RegisterPoolRequest.MemoryOneofCase.ShmPath || string.IsNullOrWhiteSpace(request.ShmPath))
        {
            throw Reject(context, StatusCode.InvalidArgument, "memory: give shm_path, the file the engine's pool lives in");
        }

        SharedMemoryPool memory;
        try
        {
            memory = new SharedMemoryPool(request.ShmPath, spec.PoolBytes, request.EnginePid);
        }
        catch (FileNotFoundException e)
        {
            throw Reject(context, StatusCode.NotFound, $"shm_path: {e.Message}");
        }
        catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException)
        {
            throw Reject(context, StatusCode.InvalidArgument, $"shm_path: {e.Message}");
        }

        var pool = pools.Add(spec, memory, CallScope.Of(context).Tenant);
        return Task.FromResult(new Rpc.RegisterPoolResponse { PoolId = pool.Id, BlockBytes = (ulong)spec.BlockBytes, Accelerator = "cpu" });
    }

    public override Task<Rpc.UnregisterPoolResponse> UnregisterPool(Rpc.PoolRequest request, ServerCallContext context) =>
        pools.Remove(request.PoolId, CallScope.Of(context).Tenant)
            ? Task.FromResult(new Rpc.UnregisterPoolResponse())
            : throw Reject(context, StatusCode.NotFound, $"pool_id: '{request.PoolId}' is not registered");

    public override async Task<Rpc.TransferResponse> Offload(Rpc.TransferRequest request, ServerCallContext context)
    {
        var ns = CallScope.Of(context).WriteNamespace ?? throw Reject(context, StatusCode.PermissionDenied, CallScope.WriteDenied);
        var (pool, blocks) = Parse(context, request);
        TimeSpan? ttl = request.TtlSeconds == 0 ? null : TimeSpan.FromSeconds(request.TtlSeconds);
        var results = await pipeline.OffloadAsync(ns, pool, blocks, ttl, context.CancellationToken).ConfigureAwait(false);
        return Response(results);
    }

    public override async Task<Rpc.TransferResponse> Onload(Rpc.TransferRequest request, ServerCallContext context)
    {
        var (pool, blocks) = Parse(context, request);
        var results = await pipeline.OnloadAsync(CallScope.Of(context).Reads, pool, blocks, context.CancellationToken).ConfigureAwait(false);
        return Response(results);
    }

    private (RegisteredPool Pool, (BlockKey Key, int Slot)[] Blocks) Parse(ServerCallContext context, Rpc.TransferRequest request)
    {
        RegisteredPool pool;
        try
        {
            pool = pools.Get(request.PoolId, CallScope.Of(context).Tenant);
        }
        catch (PoolGoneException e)
        {
            throw Reject(context, StatusCode.FailedPrecondition, $"pool_id: {e.Message}");
        }

        var blocks = new (BlockKey, int)[request.Blocks.Count];
        for (var i = 0; i < blocks.Length; i++)
        {
            var b = request.Blocks[i];
            if (!BlockKey.IsValidLength(b.Key.Span))
            {
                throw Reject(context, StatusCode.InvalidArgument, $"blocks[{i}].key: expected {BlockKey.Size} bytes, got {b.Key.Length}");
            }

            if (b.Slot >= (uint)pool.Spec.NumBlocks)
            {
                throw Reject(context, StatusCode.InvalidArgument,
                    $"blocks[{i}].slot: {b.Slot} is outside pool '{pool.Id}' of {pool.Spec.NumBlocks} blocks");
            }

            blocks[i] = (new BlockKey(b.Key.Span), (int)b.Slot);
        }

        return (pool, blocks);
    }

    private KvPoolSpec ParseSpec(ServerCallContext context, Rpc.RegisterPoolRequest request)
    {
        var g = request.Geometry ?? throw Reject(context, StatusCode.InvalidArgument, "geometry: required (layers, kv_heads, head_dim, dtype, block_tokens)");
        var layout = request.Layout switch
        {
            Rpc.PoolLayout.VllmPaged => KvPoolLayout.VllmPaged,
            Rpc.PoolLayout.LayerMajor => KvPoolLayout.LayerMajor,
            _ => throw Reject(context, StatusCode.InvalidArgument, "layout: give POOL_LAYOUT_VLLM_PAGED or POOL_LAYOUT_LAYER_MAJOR"),
        };
        try
        {
            var geometry = new ModelGeometry(string.IsNullOrEmpty(g.Model) ? "engine" : g.Model, checked((int)g.Layers), checked((int)g.KvHeads),
                checked((int)g.HeadDim), KvDTypeExtensions.Parse(g.Dtype), checked((int)g.BlockTokens));
            return new KvPoolSpec(geometry, layout, checked((int)request.NumBlocks));
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
        {
            throw Reject(context, StatusCode.InvalidArgument, $"geometry: {e.Message}");
        }
    }

    private static Rpc.TransferResponse Response(BlockStatus[] results)
    {
        var response = new Rpc.TransferResponse();
        foreach (var status in results)
        {
            var result = status switch
            {
                BlockStatus.Ok => Rpc.BlockResult.Ok,
                BlockStatus.NotFound => Rpc.BlockResult.Missing,
                BlockStatus.Timeout => Rpc.BlockResult.Timeout,
                _ => Rpc.BlockResult.Corrupt, // corrupt, geometry mismatch, too large: not usable, slot untouched
            };
            response.Results.Add(result);
            response.Ok += result == Rpc.BlockResult.Ok ? 1u : 0u;
        }

        return response;
    }

    private RpcException Reject(ServerCallContext context, StatusCode code, string message)
    {
        EngineLog.Rejected(logger, $"{context.Method}: {message}");
        return new RpcException(new Status(code, message));
    }
}
