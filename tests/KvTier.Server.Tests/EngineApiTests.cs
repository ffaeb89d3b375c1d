using Google.Protobuf;
using Grpc.Core;
using KvTier.Core;
using Rpc = KvTier.Protos.V1;

namespace KvTier.Server.Tests;

/// <summary>The engine API against a real server: pools in shared-memory files, offload and onload by slot.</summary>
[Collection(ServerCollection.Name)]
public sealed class EngineApiTests(ServerFixture fixture) : IDisposable
{
    // 2 layers × 2 kv heads × 16 dim × fp16 × 8 tokens: 512 B chunks (K or V of a layer), 2 KiB blocks.
    private static readonly Rpc.Geometry Geometry = new() { Model = "test", Layers = 2, KvHeads = 2, HeadDim = 16, Dtype = "fp16", BlockTokens = 8 };
    private const int BlockBytes = 2048;
    private const int Slots = 16;

    private readonly Rpc.Engine.EngineClient _engine = new(fixture.Channel);
    private readonly List<string> _files = [];

    public void Dispose()
    {
        foreach (var file in _files)
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData(Rpc.PoolLayout.VllmPaged)]
    [InlineData(Rpc.PoolLayout.LayerMajor)]
    public async Task Blocks_offloaded_from_one_pool_onload_bit_exact_into_another(Rpc.PoolLayout layout)
    {
        var (sourceId, sourcePath) = await RegisterAsync(layout, fill: 1);
        var (targetId, targetPath) = await RegisterAsync(layout, fill: 0);
        var keys = Enumerable.Range(0, 5).Select(_ => Blocks.RandomKey()).ToArray();

        var offloaded = await _engine.OffloadAsync(Request(sourceId, keys, [3, 0, 15, 7, 9]));
        Assert.Equal(5u, offloaded.Ok);
        var onloaded = await _engine.OnloadAsync(Request(targetId, keys, [1, 2, 3, 4, 5]));
        Assert.Equal(5u, onloaded.Ok);

        var source = File.ReadAllBytes(sourcePath);
        var target = File.ReadAllBytes(targetPath);
        int[] from = [3, 0, 15, 7, 9];
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(BlockOf(source, layout, from[i]), BlockOf(target, layout, i + 1));
        }

        Assert.All(BlockOf(target, layout, 0), b => Assert.Equal(0, b)); // untouched slot
    }

    [Fact]
    public async Task A_missing_block_is_reported_per_block_and_its_slot_is_left_untouched()
    {
        var (poolId, path) = await RegisterAsync(Rpc.PoolLayout.VllmPaged, fill: 1);
        var cached = Blocks.RandomKey();
        await _engine.OffloadAsync(Request(poolId, [cached], [0]));
        var before = File.ReadAllBytes(path);

        var response = await _engine.OnloadAsync(Request(poolId, [cached, Blocks.RandomKey()], [4, 5]));

        Assert.Equal([Rpc.BlockResult.Ok, Rpc.BlockResult.Missing], response.Results);
        Assert.Equal(BlockOf(before, Rpc.PoolLayout.VllmPaged, 5), BlockOf(File.ReadAllBytes(path), Rpc.PoolLayout.VllmPaged, 5));
    }

    [Fact]
    public async Task A_block_of_another_geometry_is_not_onloaded()
    {
        var (poolId, _) = await RegisterAsync(Rpc.PoolLayout.VllmPaged, fill: 1);
        var key = Blocks.RandomKey();
        await fixture.Client.PutAsync(key, Blocks.Random(BlockBytes)); // right size, no geometry fingerprint

        var response = await _engine.OnloadAsync(Request(poolId, [key], [2]));

        Assert.Equal([Rpc.BlockResult.Corrupt], response.Results);
    }

    [Fact]
    public async Task A_pool_whose_engine_died_is_dropped_and_the_server_keeps_serving()
    {
        var (poolId, path) = await RegisterAsync(Rpc.PoolLayout.LayerMajor, fill: 1);
        File.Delete(path);

        var ex = await Assert.ThrowsAsync<RpcException>(async () => await _engine.OffloadAsync(Request(poolId, [Blocks.RandomKey()], [0])));
        Assert.Equal(StatusCode.FailedPrecondition, ex.StatusCode);
        Assert.Contains("engine is gone", ex.Status.Detail, StringComparison.Ordinal);

        ex = await Assert.ThrowsAsync<RpcException>(async () => await _engine.OnloadAsync(Request(poolId, [Blocks.RandomKey()], [0])));
        Assert.Contains("not registered", ex.Status.Detail, StringComparison.Ordinal);
        await fixture.AssertStillServesAsync();
    }

    [Fact]
    public async Task Bad_registrations_and_requests_get_the_fitting_status()
    {
        var missing = await Assert.ThrowsAsync<RpcException>(async () => await _engine.RegisterPoolAsync(new Rpc.RegisterPoolRequest
        {
            Geometry = Geometry, Layout = Rpc.PoolLayout.VllmPaged, NumBlocks = Slots, ShmPath = "/nonexistent/kvtier-pool",
        }));
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);

        var cuda = await Assert.ThrowsAsync<RpcException>(async () => await _engine.RegisterPoolAsync(new Rpc.RegisterPoolRequest
        {
            Geometry = Geometry, Layout = Rpc.PoolLayout.VllmPaged, NumBlocks = Slots, CudaIpcHandle = ByteString.CopyFrom(new byte[64]),
        }));
        Assert.Equal(StatusCode.Unimplemented, cuda.StatusCode);

        var badDtype = await Assert.ThrowsAsync<RpcException>(async () => await _engine.RegisterPoolAsync(new Rpc.RegisterPoolRequest
        {
            Geometry = new Rpc.Geometry(Geometry) { Dtype = "int3" }, Layout = Rpc.PoolLayout.VllmPaged, NumBlocks = Slots, ShmPath = NewFile(1),
        }));
        Assert.Equal(StatusCode.InvalidArgument, badDtype.StatusCode);
        Assert.Contains("int3", badDtype.Status.Detail, StringComparison.Ordinal);

        var (poolId, _) = await RegisterAsync(Rpc.PoolLayout.VllmPaged, fill: 0);
        var badSlot = await Assert.ThrowsAsync<RpcException>(async () => await _engine.OffloadAsync(Request(poolId, [Blocks.RandomKey()], [Slots])));
        Assert.Equal(StatusCode.InvalidArgument, badSlot.StatusCode);
        Assert.Contains("blocks[0].slot", badSlot.Status.Detail, StringComparison.Ordinal);
        await fixture.AssertStillServesAsync();
    }

    private async Task<(string Id, string Path)> RegisterAsync(Rpc.PoolLayout layout, byte fill)
    {
        var path = NewFile(fill);
        var response = await _engine.RegisterPoolAsync(new Rpc.RegisterPoolRequest
        {
            Geometry = Geometry, Layout = layout, NumBlocks = Slots, ShmPath = path, EnginePid = Environment.ProcessId,
        });
        Assert.Equal((ulong)BlockBytes, response.BlockBytes);
        return (response.PoolId, path);
    }

    private string NewFile(byte seed)
    {
        var path = Path.Combine(Path.GetTempPath(), $"kvtier-enginetest-{Guid.NewGuid():N}");
        var bytes = new byte[Slots * BlockBytes];
        if (seed != 0)
        {
            new Random(seed).NextBytes(bytes);
        }

        File.WriteAllBytes(path, bytes);
        _files.Add(path);
        return path;
    }

    private static Rpc.TransferRequest Request(string poolId, BlockKey[] keys, int[] slots)
    {
        var request = new Rpc.TransferRequest { PoolId = poolId };
        for (var i = 0; i < keys.Length; i++)
        {
            request.Blocks.Add(new Rpc.BlockSlot { Key = ByteString.CopyFrom(keys[i].AsSpan()), Slot = (uint)slots[i] });
        }

        return request;
    }

    // Reassembles block `slot` in block format ([layer][K,V][...]) from a pool file, independently of the server's code.
    private static byte[] BlockOf(byte[] pool, Rpc.PoolLayout layout, int slot)
    {
        const int chunk = 512;
        var block = new byte[BlockBytes];
        for (var c = 0; c < 4; c++)
        {
            var offset = layout == Rpc.PoolLayout.LayerMajor
                ? slot * BlockBytes + c * chunk
                : ((c / 2) * 2 * Slots + (c % 2) * Slots + slot) * chunk;
            pool.AsSpan(offset, chunk).CopyTo(block.AsSpan(c * chunk));
        }

        return block;
    }
}
