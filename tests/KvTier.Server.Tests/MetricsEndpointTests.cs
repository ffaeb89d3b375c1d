using Google.Protobuf;
using KvTier.Client;
using KvTier.Core;
using KvTier.Server.Operations;
using Rpc = KvTier.Protos.V1;

namespace KvTier.Server.Tests;

/// <summary>
/// <c>/metrics</c> of a real server of its own per test (so "at start" is really the start and every delta is this
/// test's): every series exists at zero, and each request moves exactly the counters it should, by its amount.
/// </summary>
public sealed class MetricsEndpointTests : IAsyncLifetime
{
    private const int BlockTokens = 16;

    private readonly HttpClient _http = new();
    private KvTierServer _server = null!;
    private KvTierClient _client = null!;
    private Grpc.Net.Client.GrpcChannel _channel = null!;

    private Uri Operations => _server.MetricsAddress!;

    private Rpc.KvTier.KvTierClient Raw => new(_channel);

    public async Task InitializeAsync()
    {
        _server = await KvTierServer.StartAsync(new ServerOptions
        {
            Listen = "127.0.0.1:0",
            Metrics = "127.0.0.1:0",
            Memory = "32MiB",
            MaxBlock = "1MiB",
            Staging = "1MiB",
            NodeId = "metrics-node",
            BlockTokens = BlockTokens,
        });
        _client = new KvTierClient(_server.Address);
        _channel = Grpc.Net.Client.GrpcChannel.ForAddress(_server.Address);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        _channel.Dispose();
        _http.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Every_metric_is_published_from_the_start_with_zero_values()
    {
        var scrape = await Exposition.ScrapeAsync(_http, Operations);

        foreach (var name in MetricNames.All)
        {
            var sample = name == MetricNames.FetchSeconds ? name + "_count" : name;
            Assert.True(scrape.Names.Contains(sample), $"{sample} is missing from:\n{scrape.Text}");
        }

        foreach (var result in new[] { "hit_local", "hit_remote", "miss" })
        {
            Assert.Equal(0, scrape.Value(MetricNames.LookupBlocks, ("result", result)));
        }

        foreach (var (op, source) in new[] { ("put", "local"), ("get", "local"), ("offload", "engine"), ("onload", "engine"), ("replicate", "peer"), ("fetch", "peer") })
        {
            Assert.Equal(0, scrape.Value(MetricNames.Bytes, ("op", op), ("source", source)));
        }

        foreach (var cause in new[] { "capacity", "ttl", "corrupt", "delete" })
        {
            Assert.Equal(0, scrape.Value(MetricNames.Evictions, ("cause", cause)));
        }

        foreach (var reason in new[] { "second_chance", "quota", "retention" })
        {
            Assert.Equal(0, scrape.Value(MetricNames.StoreCopies, ("reason", reason)));
        }

        foreach (var decision in new[] { "recompute", "fetch", "split" })
        {
            Assert.Equal(0, scrape.Value(MetricNames.Plans, ("decision", decision)));
        }

        foreach (var bucket in new[] { "0", "1", "2-3", "4-7", "8+" })
        {
            Assert.Equal(0, scrape.Value(MetricNames.HitRateByTurn, ("turn_bucket", bucket)));
        }

        foreach (var source in new[] { "local", "peer" })
        {
            Assert.Equal(0, scrape.Value(MetricNames.FetchSeconds + "_count", ("source", source)));
        }

        Assert.Equal(0, scrape.Value(MetricNames.HitTokens));
        Assert.Equal(0, scrape.Value(MetricNames.PrefillSavedSeconds));
        Assert.Equal(0, scrape.Value(MetricNames.WriteReadRatio));
        Assert.Equal(0, scrape.Value(MetricNames.StoreBytes, ("tier", "dram")));
        Assert.Equal(0, scrape.Value(MetricNames.StoreBytes, ("tier", "ssd")));
        Assert.Equal(0, scrape.Value(MetricNames.ReplicationQueue));
        Assert.Equal(0, scrape.Value(MetricNames.InflightLeases));
        Assert.Equal(1, scrape.Value(MetricNames.PeerUp, ("peer", "metrics-node"))); // a single node reports itself up
    }

    [Fact]
    public async Task A_put_a_get_a_lookup_hit_and_a_lookup_miss_move_their_counters_by_their_amounts()
    {
        const int Length = 100_000;
        var key = Blocks.RandomKey();
        var before = await Exposition.ScrapeAsync(_http, Operations);

        await _client.PutAsync(key, Blocks.Random(Length));
        Assert.Equal(Length, (await _client.GetAsync(key))!.Length);
        Assert.Equal(1, (await _client.LookupAsync([key])).Prefix);
        Assert.Equal(0, (await _client.LookupAsync([Blocks.RandomKey()])).Prefix);
        var after = await Exposition.ScrapeAsync(_http, Operations);

        double Delta(string name, params (string, string)[] labels) => after.Value(name, labels) - before.Value(name, labels);
        Assert.Equal(Length, Delta(MetricNames.Bytes, ("op", "put"), ("source", "local")));
        Assert.Equal(Length, Delta(MetricNames.Bytes, ("op", "get"), ("source", "local")));
        Assert.Equal(0, Delta(MetricNames.Bytes, ("op", "fetch"), ("source", "peer")));
        Assert.Equal(1, Delta(MetricNames.LookupBlocks, ("result", "hit_local")));
        Assert.Equal(1, Delta(MetricNames.LookupBlocks, ("result", "miss")));
        Assert.Equal(0, Delta(MetricNames.LookupBlocks, ("result", "hit_remote")));
        Assert.Equal(BlockTokens, Delta(MetricNames.HitTokens));
        Assert.Equal(1, Delta(MetricNames.FetchSeconds + "_count", ("source", "local")));
        Assert.Equal(0, Delta(MetricNames.FetchSeconds + "_count", ("source", "peer")));
        Assert.True(after.Value(MetricNames.StoreBytes, ("tier", "dram")) >= Length);
        Assert.Equal(1, after.Value(MetricNames.WriteReadRatio)); // one block written, the same block read once
    }

    [Fact]
    public async Task Lookups_that_name_their_turn_set_the_hit_rate_of_their_bucket_only()
    {
        var keys = Enumerable.Range(0, 4).Select(_ => Blocks.RandomKey()).ToArray();
        foreach (var key in keys.Take(3))
        {
            await _client.PutAsync(key, Blocks.Random(1024));
        }

        await Raw.LookupAsync(Lookup(keys, turn: 5));                 // 3 of 4 cached, bucket 4-7
        await Raw.LookupAsync(Lookup([Blocks.RandomKey()], turn: 6)); // 0 of 1, same bucket
        await Raw.LookupAsync(Lookup(keys, turn: null));              // no turn: counted nowhere by turn
        var scrape = await Exposition.ScrapeAsync(_http, Operations);

        Assert.Equal(3.0 / 5, scrape.Value(MetricNames.HitRateByTurn, ("turn_bucket", "4-7")), 9);
        foreach (var bucket in new[] { "0", "1", "2-3", "8+" })
        {
            Assert.Equal(0, scrape.Value(MetricNames.HitRateByTurn, ("turn_bucket", bucket)));
        }

        Assert.Equal(6, scrape.Value(MetricNames.LookupBlocks, ("result", "hit_local")));
        Assert.Equal(3, scrape.Value(MetricNames.LookupBlocks, ("result", "miss")));
    }

    [Fact]
    public async Task Lookups_with_plan_options_count_their_decision_and_fetch_plans_count_the_prefill_they_save()
    {
        var keys = Enumerable.Range(0, 64).Select(_ => Blocks.RandomKey()).ToArray();
        foreach (var key in keys)
        {
            await _client.PutAsync(key, Blocks.Random(1024));
        }

        var fetch = await Raw.LookupAsync(Lookup(keys, turn: 1, promptTokens: 64 * 16 + 5));
        var recompute = await Raw.LookupAsync(Lookup([.. keys.Take(4), Blocks.RandomKey()], turn: 1, promptTokens: 64 * 16));
        var scrape = await Exposition.ScrapeAsync(_http, Operations);

        Assert.Equal("fetch", fetch.Plan.Decision);
        Assert.Equal("recompute", recompute.Plan.Decision);
        Assert.Equal(1, scrape.Value(MetricNames.Plans, ("decision", "fetch")));
        Assert.Equal(1, scrape.Value(MetricNames.Plans, ("decision", "recompute")));
        Assert.Equal(0, scrape.Value(MetricNames.Plans, ("decision", "split")));
        var saved = (fetch.Plan.RecomputeAllTtftMs - fetch.Plan.ChosenTtftMs) / 1000;
        Assert.Equal(saved, scrape.Value(MetricNames.PrefillSavedSeconds), 6);
    }

    [Fact]
    public async Task Overfilling_a_small_store_moves_capacity_evictions_and_a_delete_moves_delete_evictions()
    {
        // 64 blocks of 512 KiB are 32 MiB of payload: more than the 32 MiB store's in-memory window can hold.
        var keys = Enumerable.Range(0, 64).Select(_ => Blocks.RandomKey()).ToArray();
        foreach (var key in keys)
        {
            await _client.PutAsync(key, Blocks.Random(512 << 10));
        }

        var last = keys[^1];
        Assert.Equal(1u, (await Raw.DeleteAsync(KeysRequest(last))).Deleted);

        // Pages leave memory as the log moves on; the store settles its tallies on each scrape: poll, bounded.
        var scrape = await Exposition.ScrapeAsync(_http, Operations);
        for (var i = 0; i < 100 && scrape.Value(MetricNames.Evictions, ("cause", "capacity")) == 0; i++)
        {
            await _client.PutAsync(Blocks.RandomKey(), Blocks.Random(512 << 10));
            scrape = await Exposition.ScrapeAsync(_http, Operations);
        }

        var stats = _server.Store.GetStats();
        Assert.True(scrape.Value(MetricNames.Evictions, ("cause", "capacity")) > 0, scrape.Text);
        Assert.True(scrape.Value(MetricNames.Evictions, ("cause", "capacity")) <= stats.EvictionsCapacity);
        Assert.Equal(1, scrape.Value(MetricNames.Evictions, ("cause", "delete")));
        Assert.Equal(0, scrape.Value(MetricNames.Evictions, ("cause", "ttl")));
        Assert.Equal(0, scrape.Value(MetricNames.Evictions, ("cause", "corrupt")));
    }

    [Fact]
    public async Task A_prefix_engines_keep_looking_up_while_the_store_overflows_is_copied_forward_and_counted()
    {
        var prefix = Enumerable.Range(0, 4).Select(_ => Blocks.RandomKey()).ToArray();
        foreach (var key in prefix)
        {
            await _client.PutAsync(key, Blocks.Random(512 << 10));
        }

        // New requests on the same prefix keep finding it while one-off blocks push the log's head around it.
        var scrape = await Exposition.ScrapeAsync(_http, Operations);
        for (var i = 0; i < 400 && scrape.Value(MetricNames.StoreCopies, ("reason", "retention")) == 0; i++)
        {
            Assert.Equal(prefix.Length, (await _client.LookupAsync(prefix)).Prefix);
            await _client.PutAsync(Blocks.RandomKey(), Blocks.Random(512 << 10));
            scrape = await Exposition.ScrapeAsync(_http, Operations);
        }

        Assert.True(scrape.Value(MetricNames.StoreCopies, ("reason", "retention")) > 0, scrape.Text);
        Assert.True(scrape.Value(MetricNames.StoreCopies, ("reason", "retention")) <= _server.Store.GetStats().RetentionCopies);
        Assert.Equal(0, scrape.Value(MetricNames.StoreCopies, ("reason", "quota")));
        Assert.Equal(prefix.Length, (await _client.LookupAsync(prefix)).Prefix);
    }

    [Fact]
    public async Task The_endpoint_serves_metrics_healthz_and_readyz_and_nothing_else()
    {
        using var healthz = await _http.GetAsync(new Uri(Operations, "/healthz"));
        using var readyz = await _http.GetAsync(new Uri(Operations, "/readyz"));
        using var other = await _http.GetAsync(new Uri(Operations, "/debug"));

        Assert.Equal(System.Net.HttpStatusCode.OK, healthz.StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.OK, readyz.StatusCode);
        Assert.Equal("ready\n", await readyz.Content.ReadAsStringAsync());
        Assert.Equal(System.Net.HttpStatusCode.NotFound, other.StatusCode);
        Assert.NotEqual(_server.Address.Port, Operations.Port);
    }

    [Fact]
    public async Task Offload_and_onload_through_an_engine_pool_count_engine_bytes_per_block()
    {
        // 2 layers x 2 kv heads x 16 dim x fp16 x 8 tokens: 2 KiB blocks, in a pool of 4 slots in a shared-memory file.
        const int BlockBytes = 2048;
        var path = Path.Combine(Path.GetTempPath(), $"kvtier-metricstest-{Guid.NewGuid():N}");
        await File.WriteAllBytesAsync(path, Blocks.Random(4 * BlockBytes));
        try
        {
            var engine = new Rpc.Engine.EngineClient(_channel);
            var pool = await engine.RegisterPoolAsync(new Rpc.RegisterPoolRequest
            {
                Geometry = new Rpc.Geometry { Model = "test", Layers = 2, KvHeads = 2, HeadDim = 16, Dtype = "fp16", BlockTokens = 8 },
                Layout = Rpc.PoolLayout.LayerMajor, NumBlocks = 4, ShmPath = path, EnginePid = Environment.ProcessId,
            });
            var keys = new[] { Blocks.RandomKey(), Blocks.RandomKey(), Blocks.RandomKey() };

            Assert.Equal(3u, (await engine.OffloadAsync(Transfer(pool.PoolId, keys))).Ok);
            Assert.Equal(2u, (await engine.OnloadAsync(Transfer(pool.PoolId, [keys[0], keys[1], Blocks.RandomKey()]))).Ok);
            var scrape = await Exposition.ScrapeAsync(_http, Operations);

            Assert.Equal(3 * BlockBytes, scrape.Value(MetricNames.Bytes, ("op", "offload"), ("source", "engine")));
            Assert.Equal(2 * BlockBytes, scrape.Value(MetricNames.Bytes, ("op", "onload"), ("source", "engine")));
            Assert.Equal(2, scrape.Value(MetricNames.FetchSeconds + "_count", ("source", "local")));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static Rpc.TransferRequest Transfer(string poolId, BlockKey[] keys)
    {
        var request = new Rpc.TransferRequest { PoolId = poolId };
        for (var i = 0; i < keys.Length; i++)
        {
            request.Blocks.Add(new Rpc.BlockSlot { Key = ByteString.CopyFrom(keys[i].AsSpan()), Slot = (uint)i });
        }

        return request;
    }

    private static Rpc.LookupRequest Lookup(BlockKey[] keys, uint? turn, int promptTokens = 0)
    {
        var request = new Rpc.LookupRequest();
        request.Keys.AddRange(keys.Select(k => ByteString.CopyFrom(k.AsSpan())));
        if (turn is { } t)
        {
            request.Turn = t;
        }

        if (promptTokens > 0)
        {
            request.Plan = new Rpc.PlanOptions { Model = "tiny", Device = "cpu-2core", PromptTokens = (uint)promptTokens };
        }

        return request;
    }

    private static Rpc.KeysRequest KeysRequest(BlockKey key)
    {
        var request = new Rpc.KeysRequest();
        request.Keys.Add(ByteString.CopyFrom(key.AsSpan()));
        return request;
    }
}
