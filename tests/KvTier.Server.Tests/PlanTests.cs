using Google.Protobuf;
using Grpc.Core;
using KvTier.Core;
using Rpc = KvTier.Protos.V1;

namespace KvTier.Server.Tests;

/// <summary>Lookup with a fetch-vs-recompute plan, and timing reports that teach the model, on a real server.</summary>
[Collection(ServerCollection.Name)]
public sealed class PlanTests(ServerFixture fixture)
{
    [Fact]
    public async Task A_long_prefix_cached_in_local_dram_is_planned_as_a_fetch_with_both_estimates()
    {
        var keys = await CacheAsync(cached: 64, total: 64);

        var response = await fixture.Raw.LookupAsync(Request(keys, promptTokens: 64 * 16 + 5));

        Assert.Equal(64u, response.PrefixBlocks);
        Assert.Equal("fetch", response.Plan.Decision);
        Assert.Equal(64u, response.Plan.FetchBlocks);
        Assert.Equal(5u, response.Plan.RecomputeTokens);
        Assert.True(response.Plan.RecomputeAllTtftMs > response.Plan.ChosenTtftMs, response.Plan.ToString());
        Assert.Contains("engine-sim", response.Plan.ProfileSource, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_prefix_shorter_than_the_minimum_fetch_is_recomputed()
    {
        var keys = await CacheAsync(cached: 4, total: 64); // 64 cached tokens, under the 256-token minimum

        var response = await fixture.Raw.LookupAsync(Request(keys, promptTokens: 64 * 16));

        Assert.Equal(4u, response.PrefixBlocks);
        Assert.Equal("recompute", response.Plan.Decision);
        Assert.Equal(0u, response.Plan.FetchBlocks);
        Assert.Equal(64u * 16, response.Plan.RecomputeTokens);
    }

    [Fact]
    public async Task A_lookup_without_a_plan_request_carries_no_plan_and_an_unknown_profile_is_refused()
    {
        var keys = await CacheAsync(cached: 2, total: 2);
        var plain = new Rpc.LookupRequest();
        plain.Keys.AddRange(keys.Select(k => ByteString.CopyFrom(k.AsSpan())));
        Assert.Null((await fixture.Raw.LookupAsync(plain)).Plan);

        var request = Request(keys, 32);
        request.Plan.Device = "abacus";
        var ex = await Assert.ThrowsAsync<RpcException>(async () => await fixture.Raw.LookupAsync(request));
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains("tiny@cpu-2core", ex.Status.Detail, StringComparison.Ordinal);
        await fixture.AssertStillServesAsync();
    }

    [Fact]
    public async Task A_plan_for_an_empty_prompt_is_invalid_not_an_internal_error()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(async () => await fixture.Raw.LookupAsync(Request([], promptTokens: 0)));

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains("empty prompt", ex.Status.Detail, StringComparison.Ordinal);
        await fixture.AssertStillServesAsync();
    }

    [Fact]
    public async Task Reported_prefill_times_move_the_models_estimate_toward_them()
    {
        var first = await fixture.Raw.ReportTimingAsync(new Rpc.TimingReport { Model = "tiny", Device = "cpu-2core", PrefillTokens = 512 });
        Rpc.TimingAck last = first;
        for (var i = 0; i < 20; i++)
        {
            // The "engine" is ten times slower than the profile says.
            last = await fixture.Raw.ReportTimingAsync(new Rpc.TimingReport
            {
                Model = "tiny", Device = "cpu-2core", PrefillTokens = 512, PrefillMs = 10 * first.PrefillEstimateMs,
            });
        }

        Assert.True(last.PrefillEstimateMs > 2 * first.PrefillEstimateMs, $"{first.PrefillEstimateMs} -> {last.PrefillEstimateMs}");
        var bad = await Assert.ThrowsAsync<RpcException>(async () =>
            await fixture.Raw.ReportTimingAsync(new Rpc.TimingReport { Model = "tiny", Device = "cpu-2core", PrefillMs = 5 }));
        Assert.Contains("prefill_tokens", bad.Status.Detail, StringComparison.Ordinal);
    }

    private async Task<BlockKey[]> CacheAsync(int cached, int total)
    {
        var keys = Enumerable.Range(0, total).Select(_ => Blocks.RandomKey()).ToArray();
        foreach (var key in keys.Take(cached))
        {
            await fixture.Client.PutAsync(key, Blocks.Random(1024));
        }

        return keys;
    }

    private static Rpc.LookupRequest Request(BlockKey[] keys, int promptTokens)
    {
        var request = new Rpc.LookupRequest { Plan = new Rpc.PlanOptions { Model = "tiny", Device = "cpu-2core", PromptTokens = (uint)promptTokens } };
        request.Keys.AddRange(keys.Select(k => ByteString.CopyFrom(k.AsSpan())));
        return request;
    }
}
