using Google.Protobuf;
using Grpc.Core;
using KvTier.Core;
using Rpc = KvTier.Protos.V1;

namespace KvTier.Server.Tests;

/// <summary>Lookup, Delete, Touch and Stats.</summary>
[Collection(ServerCollection.Name)]
public sealed class KeysTests(ServerFixture fixture)
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(5)]
    public async Task Lookup_OfAChainWhoseFirstKAreStored_ReturnsKAndTheirLocations(int k)
    {
        var chain = new BlockHasher(Guid.NewGuid().ToString()).HashChain(Enumerable.Range(1, 5 * 16).ToArray());
        foreach (var key in chain.Take(k))
        {
            await fixture.Client.PutAsync(key, Blocks.Random(1024));
        }

        var result = await fixture.Client.LookupAsync(chain);

        Assert.Equal(k, result.Prefix);
        Assert.Equal(k, result.Locations.Count);
        Assert.All(result.Locations, l => Assert.Equal(Rpc.Location.LocalDram, l.Location));
    }

    [Fact]
    public async Task Lookup_StopsAtTheFirstMissingKey()
    {
        var chain = new[] { Blocks.RandomKey(), Blocks.RandomKey(), Blocks.RandomKey() };
        await fixture.Client.PutAsync(chain[0], Blocks.Random(10));
        await fixture.Client.PutAsync(chain[2], Blocks.Random(10));

        var result = await fixture.Client.LookupAsync(chain);

        Assert.Equal(1, result.Prefix);
        Assert.Single(result.Locations);
    }

    [Fact]
    public async Task Lookup_WithABadKey_IsInvalidArgumentNamingItsIndex()
    {
        var request = new Rpc.LookupRequest();
        request.Keys.Add(ByteString.CopyFrom(Blocks.RandomKey().AsSpan()));
        request.Keys.Add(ByteString.CopyFrom(new byte[5]));

        var e = await Assert.ThrowsAsync<RpcException>(async () => await fixture.Raw.LookupAsync(request));

        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.StartsWith("keys[1]:", e.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("got 5", e.Status.Detail, StringComparison.Ordinal);
        await fixture.AssertStillServesAsync();
    }

    [Fact]
    public async Task Lookup_Of8192Keys_FitsTheMessageLimit()
    {
        var chain = Enumerable.Range(0, 8192).Select(_ => Blocks.RandomKey()).ToArray();
        await fixture.Client.PutAsync(chain[0], Blocks.Random(10));

        var result = await fixture.Client.LookupAsync(chain);

        Assert.Equal(1, result.Prefix);
    }

    [Fact]
    public async Task Delete_ThenGet_IsNotFound()
    {
        var key = Blocks.RandomKey();
        await fixture.Client.PutAsync(key, Blocks.Random(2048));

        var deleted = await fixture.Client.DeleteAsync([key, Blocks.RandomKey()]);

        Assert.Equal(1, deleted);
        Assert.Null(await fixture.Client.GetAsync(key));
    }

    [Fact]
    public async Task Delete_WithABadKey_DeletesNothing()
    {
        var key = Blocks.RandomKey();
        await fixture.Client.PutAsync(key, Blocks.Random(64));
        var request = new Rpc.KeysRequest();
        request.Keys.Add(ByteString.CopyFrom(key.AsSpan()));
        request.Keys.Add(ByteString.CopyFrom(new byte[33]));

        var e = await Assert.ThrowsAsync<RpcException>(async () => await fixture.Raw.DeleteAsync(request));

        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.StartsWith("keys[1]:", e.Status.Detail, StringComparison.Ordinal);
        Assert.NotNull(await fixture.Client.GetAsync(key));
    }

    [Fact]
    public async Task Touch_WithTtl_SetsTheExpiryAndTouchWithoutTtlClearsIt()
    {
        var key = Blocks.RandomKey();
        await fixture.Client.PutAsync(key, Blocks.Random(128));
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        Assert.Equal(1, await fixture.Client.TouchAsync([key, Blocks.RandomKey()], TimeSpan.FromMinutes(10)));
        Assert.Equal(BlockStatus.Ok, fixture.Server.Store.Peek("default", key, out var withTtl));
        Assert.InRange(withTtl.ExpiresUnixMs, before + 590_000, before + 610_000 + 60_000);

        Assert.Equal(1, await fixture.Client.TouchAsync([key], ttl: null));
        Assert.Equal(BlockStatus.Ok, fixture.Server.Store.Peek("default", key, out var cleared));
        Assert.Equal(0, cleared.ExpiresUnixMs);
    }

    [Fact]
    public async Task Put_WithTtl_StoresTheExpiry()
    {
        var key = Blocks.RandomKey();
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        await fixture.Client.PutAsync(key, Blocks.Random(128), ttl: TimeSpan.FromSeconds(0.2));

        // A sub-second TTL rounds up to 1 s rather than down to 0, which would mean "never expires". On a stalled
        // machine the second may pass before the peek: then the block must be gone, and only after that second.
        var status = fixture.Server.Store.Peek("default", key, out var info);
        var after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        if (status == BlockStatus.Expired || status == BlockStatus.NotFound)
        {
            Assert.True(after - before >= 1_000, $"the block expired {after - before} ms after its put, before the 1 s its TTL rounds up to");
            return;
        }

        Assert.Equal(BlockStatus.Ok, status);
        Assert.InRange(info.ExpiresUnixMs, before + 1_000, before + 60_000);
    }

    [Fact]
    public async Task Stats_CountersMoveWithPutsHitsAndMisses()
    {
        var before = await fixture.Client.StatsAsync();
        var key = Blocks.RandomKey();

        await fixture.Client.PutAsync(key, Blocks.Random(1000));
        await fixture.Client.GetAsync(key);
        await fixture.Client.GetAsync(Blocks.RandomKey());
        var after = await fixture.Client.StatsAsync();

        Assert.Equal(before.Puts + 1, after.Puts);
        Assert.Equal(before.PutPayloadBytes + 1000, after.PutPayloadBytes);
        Assert.Equal(before.Hits + 1, after.Hits);
        Assert.Equal(before.Misses + 1, after.Misses);
        Assert.Equal("test-node", after.NodeId);
        Assert.Equal(BlockHasher.SeedFingerprintOf("0"), after.SeedFingerprint);
        Assert.Equal((ulong)ServerFixture.MaxBlockBytes, after.MaxBlockBytes);
        Assert.Equal(64UL << 20, after.MemoryBudgetBytes);
    }
}
