using System.Text.Json;
using KvTier.Core;

namespace KvTier.Bench.Tests;

public sealed class WorkloadBenchmarkTests
{
    private static WorkloadBenchOptions Small(params string[] workloads) => new()
    {
        Model = ModelPreset.Get("tiny"),
        Device = "cpu-2core",
        Workloads = workloads,
        MemoryBytes = 256L << 20,
        StampedeEngines = 8,
        StampedeSharedTokens = 1024, // the tiny model on this CPU prefills it in about 0.14 s
        TraceTimedRequests = 10,
    };

    [Fact]
    public void Workloads_are_real_cl100k_text_and_the_same_for_the_same_seed()
    {
        var corpus = TextCorpus.Load();
        var first = Workloads.Create("multi-turn-chat", corpus, seed: 5, full: false);
        var again = Workloads.Create("multi-turn-chat", corpus, seed: 5, full: false);
        var other = Workloads.Create("multi-turn-chat", corpus, seed: 6, full: false);

        Assert.Equal(first.Select(r => r.Tokens), again.Select(r => r.Tokens));
        Assert.NotEqual(first[0].Tokens, other[0].Tokens);
        Assert.All(first, r => Assert.All(r.Tokens, t => Assert.InRange(t, 0, 100_276))); // cl100k_base ids
        Assert.True(corpus.Tokens > 20_000, $"corpus has {corpus.Tokens} tokens");
    }

    [Fact]
    public void Each_chat_turn_extends_the_previous_turn_of_its_conversation()
    {
        var requests = Workloads.Create("multi-turn-chat", TextCorpus.Load(), seed: 1, full: false);
        foreach (var conversation in requests.GroupBy(r => r.Engine))
        {
            var turns = conversation.OrderBy(r => r.Turn).ToArray();
            Assert.True(turns[0].Tokens.Length >= 4096, "the shared system prompt is at least 4K tokens");
            for (var t = 1; t < turns.Length; t++)
            {
                Assert.True(turns[t].Tokens.AsSpan().StartsWith(turns[t - 1].Tokens), $"turn {t} does not extend turn {t - 1}");
            }
        }
    }

    [Fact]
    public void Short_prompts_are_mostly_under_300_tokens()
    {
        var requests = Workloads.Create("short-prompts", TextCorpus.Load(), seed: 1, full: false);
        Assert.True(requests.Count(r => r.Tokens.Length < 300) >= requests.Count * 0.8);
    }

    [Fact]
    public async Task A_small_run_compares_the_four_policies_on_the_same_requests_and_writes_the_contract_fields()
    {
        var result = await WorkloadBenchmark.RunAsync(Small("multi-turn-chat", "short-prompts"), null, CancellationToken.None);

        Assert.Equal(2, result.Workloads.Count);
        foreach (var w in result.Workloads)
        {
            Assert.Equal(["recompute", "always_fetch", "policy", "oracle"], w.Policies.Keys);
            Assert.All(w.Policies.Values, p => Assert.Equal(w.Requests, p.Requests));
            Assert.Equal(0, w.Policies["recompute"].HitRate);
            // The oracle takes the best measured choice per request, so no policy can beat its mean.
            Assert.All(w.Policies.Values, p => Assert.True(w.Policies["oracle"].TtftMeanMs <= p.TtftMeanMs + 1e-9));
        }

        var chat = result.Workloads[0];
        // Turn 0 finds only the system prompt (and the very first request nothing); later turns find their history too.
        Assert.True(chat.HitRateByTurn!["0"] < chat.HitRateByTurn!["3"]);
        Assert.True(chat.HitRateByTurn!["3"] > 0.9, "later turns find almost all of their prompt cached");
        Assert.True(chat.Policies["policy"].PrefillTokensSaved > 0);

        using var json = JsonDocument.Parse(JsonSerializer.Serialize(result));
        var w0 = json.RootElement.GetProperty("workloads")[0];
        foreach (var field in new[] { "ttft_mean_ms", "ttft_p50_ms", "ttft_p99_ms", "hit_rate", "prefill_tokens_saved", "cost_relative" })
        {
            Assert.True(w0.GetProperty("policies").GetProperty("policy").TryGetProperty(field, out _), $"missing {field}");
        }

        Assert.True(w0.TryGetProperty("hit_rate_by_turn", out _));
        Assert.True(w0.TryGetProperty("write_read_ratio", out _));
    }

    [Fact]
    public async Task Cold_engines_at_once_prefill_the_shared_prefix_at_most_twice_with_leases()
    {
        var result = await WorkloadBenchmark.RunAsync(Small("fleet-restart-stampede"), null, CancellationToken.None);

        var stampede = Assert.Single(result.Workloads);
        Assert.Equal(8, stampede.Engines);
        Assert.InRange(stampede.PrefillRunsOfSharedPrefix!.Value, 1, 2);
        Assert.True(stampede.Policies["policy"].PrefillTokensSaved > 0, "the waiters fetched the prefix instead of computing it");
    }

    [Fact]
    public async Task Hits_over_a_shaped_peer_link_are_fetched_through_the_data_plane()
    {
        var options = Small("agent-loop");
        var result = await WorkloadBenchmark.RunAsync(new WorkloadBenchOptions
        {
            Model = options.Model, Device = options.Device, Workloads = options.Workloads, MemoryBytes = options.MemoryBytes,
            Links = ["10gbit"],
        }, null, CancellationToken.None);

        var agent = Assert.Single(result.Workloads);
        Assert.StartsWith("10gbit", agent.Link, StringComparison.Ordinal);
        Assert.True(agent.Policies["always_fetch"].PrefillTokensSaved > 0);
    }

    [Fact]
    public void A_capacity_too_small_for_a_store_is_refused_with_the_smallest_that_works()
    {
        var options = new WorkloadBenchOptions { Model = ModelPreset.Get("tiny"), Device = "cpu-2core", Workloads = ["trace-replay"], CapacityBlocks = 100 };
        var ex = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains("--capacity-blocks 100", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"at least {StoreTraceReplay.MinCapacityBlocks} blocks", ex.Message, StringComparison.Ordinal);
        StoreTraceReplay.Sized(StoreTraceReplay.MinCapacityBlocks, Store.StoreRetention.KvTier); // and that one works
    }

    [Fact]
    public void A_bad_link_is_refused_up_front_naming_it_and_the_forms_that_work()
    {
        var options = new WorkloadBenchOptions { Model = ModelPreset.Get("tiny"), Device = "cpu-2core", Links = ["local", "7gbit:rtt=-1us"] };

        var ex = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Equal("--link '7gbit:rtt=-1us' is not a link: use " + LinkSpec.AcceptedForms + ".", ex.Message);
    }

    [Fact]
    public void A_missing_trace_file_is_refused_up_front_naming_it()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"kvtier-no-trace-{Guid.NewGuid():N}.jsonl");
        var options = new WorkloadBenchOptions { Model = ModelPreset.Get("tiny"), Device = "cpu-2core", Workloads = ["trace-replay"], TraceFile = missing };

        var ex = Assert.Throws<ArgumentException>(options.Validate);

        Assert.StartsWith($"--trace '{missing}' does not exist: ", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_workload_is_refused_with_the_list()
    {
        var ex = Assert.Throws<ArgumentException>(() => Small("chatty").Validate());
        Assert.Contains("'chatty'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("multi-turn-chat", ex.Message, StringComparison.Ordinal);
    }
}
