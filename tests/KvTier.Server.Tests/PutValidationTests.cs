using Google.Protobuf;
using Grpc.Core;
using KvTier.Core;
using Rpc = KvTier.Protos.V1;

namespace KvTier.Server.Tests;

/// <summary>Malformed puts get the fitting status and message; the server keeps serving afterwards.</summary>
[Collection(ServerCollection.Name)]
public sealed class PutValidationTests(ServerFixture fixture)
{
    [Fact]
    public async Task Put_With31ByteKey_IsInvalidArgumentNamingTheField()
    {
        var e = await PutRawAsync(new Rpc.PutRequest
        {
            Header = new Rpc.BlockHeader { Key = ByteString.CopyFrom(new byte[31]), Length = 1 },
            Chunk = ByteString.CopyFrom(1),
        });

        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("header.key", e.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("got 31", e.Status.Detail, StringComparison.Ordinal);
        await fixture.AssertStillServesAsync();
    }

    [Fact]
    public async Task Put_OverMaxBlock_IsResourceExhaustedBeforeAnyPayload()
    {
        // Only the header is sent: the limit is checked before the payload (else this would be a length mismatch).
        var e = await PutRawAsync(new Rpc.PutRequest { Header = Header(Blocks.RandomKey(), ServerFixture.MaxBlockBytes + 1) });

        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Contains((ServerFixture.MaxBlockBytes + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), e.Status.Detail, StringComparison.Ordinal);
        Assert.Contains(ServerFixture.MaxBlockBytes.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Status.Detail, StringComparison.Ordinal);
        await fixture.AssertStillServesAsync();
    }

    [Fact]
    public async Task Put_WithWrongChecksum_IsDataLossAndTheBlockIsNotStored()
    {
        var key = Blocks.RandomKey();
        var payload = Blocks.Random(10_000);
        var header = Header(key, payload.Length);
        header.Checksum = BlockChecksum.Compute(payload) ^ 1;

        var e = await PutRawAsync(new Rpc.PutRequest { Header = header, Chunk = ByteString.CopyFrom(payload) });

        Assert.Equal(StatusCode.DataLoss, e.StatusCode);
        Assert.Contains("checksum", e.Status.Detail, StringComparison.Ordinal);
        Assert.Null(await fixture.Client.GetAsync(key));
        Assert.Equal(BlockStatus.NotFound, fixture.Server.Store.Peek("default", key, out _));
        await fixture.AssertStillServesAsync();
    }

    [Fact]
    public async Task Put_WithoutHeader_IsInvalidArgument()
    {
        var e = await PutRawAsync(new Rpc.PutRequest { Chunk = ByteString.CopyFrom(1, 2, 3) });

        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Equal("header: the first message must carry the block header", e.Status.Detail);
        await fixture.AssertStillServesAsync();
    }

    [Fact]
    public async Task Put_WithNoMessagesAtAll_IsInvalidArgument()
    {
        var e = await PutRawAsync();

        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("header", e.Status.Detail, StringComparison.Ordinal);
        await fixture.AssertStillServesAsync();
    }

    [Theory]
    [InlineData(100, 99)]
    [InlineData(100, 101)]
    public async Task Put_WhosePayloadLengthDiffersFromTheHeader_IsInvalidArgumentAndNotStored(int declared, int sent)
    {
        var key = Blocks.RandomKey();

        var e = await PutRawAsync(new Rpc.PutRequest { Header = Header(key, declared), Chunk = ByteString.CopyFrom(Blocks.Random(sent)) });

        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("header.length", e.Status.Detail, StringComparison.Ordinal);
        Assert.Null(await fixture.Client.GetAsync(key));
        await fixture.AssertStillServesAsync();
    }

    [Fact]
    public async Task Put_WithoutChecksum_IsStoredAndServedWithTheServersChecksum()
    {
        var key = Blocks.RandomKey();
        var payload = Blocks.Random(5000);
        using (var call = fixture.Raw.Put())
        {
            await call.RequestStream.WriteAsync(new Rpc.PutRequest { Header = Header(key, payload.Length), Chunk = ByteString.CopyFrom(payload.AsSpan(0, 2000)) });
            await call.RequestStream.WriteAsync(new Rpc.PutRequest { Chunk = ByteString.CopyFrom(payload.AsSpan(2000)) });
            await call.RequestStream.CompleteAsync();
            Assert.Equal((ulong)payload.Length, (await call.ResponseAsync).StoredBytes);
        }

        Assert.Equal(payload, await fixture.Client.GetAsync(key));
    }

    [Fact]
    public async Task Get_With31ByteKey_IsInvalidArgumentNamingTheField()
    {
        var e = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var call = fixture.Raw.Get(new Rpc.GetRequest { Key = ByteString.CopyFrom(new byte[31]) });
            await call.ResponseStream.MoveNext(CancellationToken.None);
        });

        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.StartsWith("key:", e.Status.Detail, StringComparison.Ordinal);
        await fixture.AssertStillServesAsync();
    }

    private static Rpc.BlockHeader Header(BlockKey key, long length) =>
        new() { Key = ByteString.CopyFrom(key.AsSpan()), Length = (ulong)length };

    private async Task<RpcException> PutRawAsync(params Rpc.PutRequest[] messages)
    {
        using var call = fixture.Raw.Put();
        try
        {
            foreach (var message in messages)
            {
                await call.RequestStream.WriteAsync(message);
            }

            await call.RequestStream.CompleteAsync();
        }
        catch (RpcException)
        {
            // The server may end the call before the client finishes writing; its status is in the response.
        }

        return await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);
    }
}
