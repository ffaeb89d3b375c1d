using Google.Protobuf;
using Grpc.Core;
using Rpc = KvTier.Protos.V1;

namespace KvTier.Server.Tests;

/// <summary>Single-flight prefill leases on a real server: a stampede on one prefix computes it once.</summary>
[Collection(ServerCollection.Name)]
public sealed class PrefillLeaseTests(ServerFixture fixture)
{
    [Fact]
    public async Task Of_sixteen_engines_cold_on_one_prefix_exactly_one_computes_and_the_others_see_who_and_when()
    {
        var prefix = ByteString.CopyFrom(Blocks.RandomKey().AsSpan());

        var answers = await Task.WhenAll(Enumerable.Range(0, 16).Select(i =>
            fixture.Raw.BeginPrefillAsync(new Rpc.BeginPrefillRequest { PrefixKey = prefix, Holder = $"engine-{i}", EtaMs = 2000 }).ResponseAsync));

        var winner = Assert.Single(answers, a => a.Acquired);
        Assert.All(answers.Where(a => !a.Acquired), a =>
        {
            Assert.Equal(winner.Holder, a.Holder);
            Assert.InRange(a.EtaRemainingMs, 1u, 2000u);
        });
        Assert.All(answers, a => Assert.Equal("test-node", a.LeaseNode));

        // A retry by the holder renews; a release frees the prefix for the next engine.
        Assert.True((await fixture.Raw.BeginPrefillAsync(new Rpc.BeginPrefillRequest { PrefixKey = prefix, Holder = winner.Holder, EtaMs = 100 })).Acquired);
        Assert.False((await fixture.Raw.EndPrefillAsync(new Rpc.EndPrefillRequest { PrefixKey = prefix, Holder = "not-the-holder" })).Released);
        Assert.True((await fixture.Raw.EndPrefillAsync(new Rpc.EndPrefillRequest { PrefixKey = prefix, Holder = winner.Holder })).Released);
        Assert.True((await fixture.Raw.BeginPrefillAsync(new Rpc.BeginPrefillRequest { PrefixKey = prefix, Holder = "late", EtaMs = 10 })).Acquired);
    }

    [Fact]
    public async Task A_waiter_hears_the_release_at_once_and_a_short_wait_gets_the_lease_as_it_stands()
    {
        var prefix = ByteString.CopyFrom(Blocks.RandomKey().AsSpan());
        Assert.True((await fixture.Raw.BeginPrefillAsync(new Rpc.BeginPrefillRequest { PrefixKey = prefix, Holder = "holder", EtaMs = 30_000 })).Acquired);

        var shortWait = await fixture.Raw.AwaitPrefillAsync(new Rpc.AwaitPrefillRequest { PrefixKey = prefix, MaxWaitMs = 20 });
        Assert.False(shortWait.Ended);
        Assert.Equal("holder", shortWait.Holder);
        Assert.InRange(shortWait.EtaRemainingMs, 1u, 30_000u);

        using var waiter = fixture.Raw.AwaitPrefillAsync(new Rpc.AwaitPrefillRequest { PrefixKey = prefix, MaxWaitMs = 60_000 });
        Assert.False(waiter.ResponseAsync.IsCompleted);
        Assert.True((await fixture.Raw.EndPrefillAsync(new Rpc.EndPrefillRequest { PrefixKey = prefix, Holder = "holder" })).Released);

        Assert.True((await waiter.ResponseAsync.WaitAsync(TimeSpan.FromSeconds(30))).Ended);
    }

    [Fact]
    public async Task A_wait_limit_of_zero_or_over_a_minute_is_invalid_and_names_the_value()
    {
        var prefix = ByteString.CopyFrom(Blocks.RandomKey().AsSpan());
        foreach (var bad in new uint[] { 0, 60_001 })
        {
            var e = await Assert.ThrowsAsync<RpcException>(async () =>
                await fixture.Raw.AwaitPrefillAsync(new Rpc.AwaitPrefillRequest { PrefixKey = prefix, MaxWaitMs = bad }));
            Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
            Assert.Contains($"max_wait_ms: {bad}", e.Status.Detail, StringComparison.Ordinal);
        }

        await fixture.AssertStillServesAsync();
    }

    [Fact]
    public async Task A_bad_prefix_key_or_a_missing_holder_is_invalid_and_the_server_keeps_serving()
    {
        var badKey = await Assert.ThrowsAsync<RpcException>(async () =>
            await fixture.Raw.BeginPrefillAsync(new Rpc.BeginPrefillRequest { PrefixKey = ByteString.CopyFrom(new byte[5]), Holder = "e" }));
        Assert.Equal(StatusCode.InvalidArgument, badKey.StatusCode);
        Assert.Contains("prefix_key", badKey.Status.Detail, StringComparison.Ordinal);

        var noHolder = await Assert.ThrowsAsync<RpcException>(async () =>
            await fixture.Raw.BeginPrefillAsync(new Rpc.BeginPrefillRequest { PrefixKey = ByteString.CopyFrom(Blocks.RandomKey().AsSpan()) }));
        Assert.Contains("holder", noHolder.Status.Detail, StringComparison.Ordinal);
        var noHolderEnd = await Assert.ThrowsAsync<RpcException>(async () =>
            await fixture.Raw.EndPrefillAsync(new Rpc.EndPrefillRequest { PrefixKey = ByteString.CopyFrom(Blocks.RandomKey().AsSpan()), Holder = " " }));
        Assert.Equal(StatusCode.InvalidArgument, noHolderEnd.StatusCode);
        Assert.Contains("holder", noHolderEnd.Status.Detail, StringComparison.Ordinal);
        await fixture.AssertStillServesAsync();
    }
}
