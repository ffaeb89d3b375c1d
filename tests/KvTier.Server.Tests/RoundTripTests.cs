using Google.Protobuf;
using Grpc.Core;
using KvTier.Core;
using Rpc = KvTier.Protos.V1;

namespace KvTier.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class RoundTripTests(ServerFixture fixture)
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(64 * 1024)]
    [InlineData((1 << 20) + 1)]
    [InlineData(4 << 20)]
    public async Task PutThenGet_ReturnsTheSameBytes(int length)
    {
        var key = Blocks.RandomKey();
        var payload = Blocks.Random(length);

        await fixture.Client.PutAsync(key, payload);
        var back = await fixture.Client.GetAsync(key);

        Assert.NotNull(back);
        Assert.True(payload.AsSpan().SequenceEqual(back), $"a {length}-byte block came back different");
    }

    [Fact]
    public async Task GetIntoBufferWriterAndStream_ReturnTheSameBytes()
    {
        var key = Blocks.RandomKey();
        var payload = Blocks.Random(300_000);
        await fixture.Client.PutAsync(key, payload);

        var writer = new System.Buffers.ArrayBufferWriter<byte>();
        using var stream = new MemoryStream();
        Assert.True(await fixture.Client.GetAsync(key, writer));
        Assert.True(await fixture.Client.GetAsync(key, stream));

        Assert.Equal(payload, writer.WrittenSpan.ToArray());
        Assert.Equal(payload, stream.ToArray());
    }

    [Fact]
    public async Task Get_WithSmallMaxChunk_StreamsHeaderThenChunksNoLargerThanAsked()
    {
        var key = Blocks.RandomKey();
        var payload = Blocks.Random((1 << 20) + 1);
        await fixture.Client.PutAsync(key, payload, geometryFingerprint: 0x1234_5678_9abc_def0);

        using var call = fixture.Raw.Get(new Rpc.GetRequest { Key = ByteString.CopyFrom(key.AsSpan()), MaxChunkBytes = 64 * 1024 });
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var header = call.ResponseStream.Current.Header;
        using var assembled = new MemoryStream();
        while (await call.ResponseStream.MoveNext(CancellationToken.None))
        {
            var chunk = call.ResponseStream.Current.Chunk;
            Assert.InRange(chunk.Length, 1, 64 * 1024);
            chunk.WriteTo(assembled);
        }

        Assert.Equal((ulong)payload.Length, header.Length);
        Assert.Equal(BlockChecksum.Compute(payload), header.Checksum);
        Assert.Equal(0x1234_5678_9abc_def0UL, header.GeometryFingerprint);
        Assert.InRange(header.CreatedUnixMs, DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeMilliseconds(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        Assert.Equal(payload, assembled.ToArray());
    }

    [Fact]
    public async Task Get_UnknownKey_IsNotFound()
    {
        var key = Blocks.RandomKey();

        var e = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var call = fixture.Raw.Get(new Rpc.GetRequest { Key = ByteString.CopyFrom(key.AsSpan()) });
            await call.ResponseStream.MoveNext(CancellationToken.None);
        });

        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        Assert.Contains($"block {key} is not cached", e.Status.Detail, StringComparison.Ordinal);
        Assert.Null(await fixture.Client.GetAsync(key));
    }

    [Fact]
    public async Task Put_SameKeyTwice_GetReturnsTheSecondBlock()
    {
        var key = Blocks.RandomKey();
        await fixture.Client.PutAsync(key, Blocks.Random(1000));
        var second = Blocks.Random(2000);

        await fixture.Client.PutAsync(key, second);

        Assert.Equal(second, await fixture.Client.GetAsync(key));
    }

    [Fact]
    public async Task ClientWithApiKey_IsServed_TheServerIgnoresTheKeyForNow()
    {
        using var client = new KvTier.Client.KvTierClient(fixture.Server.Address, apiKey: "secret-key");
        var key = Blocks.RandomKey();
        var payload = Blocks.Random(777);

        await client.PutAsync(key, payload);

        Assert.Equal(payload, await client.GetAsync(key));
    }

    [Fact]
    public async Task SixteenConcurrentClients_PutAndGetDistinctBlocks_AllMatch()
    {
        var tasks = Enumerable.Range(0, 16).Select(async i =>
        {
            using var client = new KvTier.Client.KvTierClient(fixture.Server.Address);
            for (var j = 0; j < 3; j++)
            {
                var key = Blocks.RandomKey();
                var payload = Blocks.Random(1 + ((i * 3 + j) * 5_471 % (256 * 1024)));
                await client.PutAsync(key, payload);
                var back = await client.GetAsync(key);
                Assert.NotNull(back);
                Assert.True(payload.AsSpan().SequenceEqual(back), $"client {i} block {j} came back different");
            }
        });

        await Task.WhenAll(tasks);
    }
}
