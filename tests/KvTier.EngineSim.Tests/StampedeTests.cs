using KvTier.Client;
using KvTier.Core;
using KvTier.Server;

namespace KvTier.EngineSim.Tests;

/// <summary>A fleet restart: many engines cold on one prompt at once, against a real sidecar.</summary>
public sealed class StampedeTests
{
    [Fact]
    public async Task Eight_cold_engines_on_one_prompt_prefill_it_at_most_twice_and_every_onloaded_block_is_exact()
    {
        await using var server = await KvTierServer.StartAsync(new ServerOptions
        {
            Listen = "127.0.0.1:0", Memory = "64MiB", MaxBlock = "1MiB", Staging = "4MiB",
        });
        using var client = new KvTierClient(server.Address);
        var prompt = ReferenceModel.SyntheticTokens(512, ModelPreset.Get("tiny").Vocab, seed: 3);
        var engines = new List<SimulatedEngine>();
        try
        {
            for (var i = 0; i < 8; i++)
            {
                var path = Path.Combine(Path.GetTempPath(), $"kvtier-stampede-{Guid.NewGuid():N}");
                // One model per engine, as one per GPU: a model's scratch buffers serve one prefill at a time.
                var model = new ReferenceModel(ModelPreset.Get("tiny"));
                engines.Add(await SimulatedEngine.StartAsync(model, client, "0", vramBlocks: 48, path,
                    new EngineOptions { WriteThrough = true, SingleFlight = true, EngineId = $"engine-{i}" }));
            }

            var results = await Task.WhenAll(engines.Select(e => e.RunAsync(prompt, verify: true)));

            var fullPrefills = results.Count(r => r.ComputedTokens == prompt.Length);
            Assert.InRange(fullPrefills, 1, 2);
            Assert.All(results, r => Assert.Equal(0, r.MismatchedBlocks));
            Assert.True(results.Sum(r => r.VerifiedBlocks) >= 6 * 32, string.Join("; ", results));
        }
        finally
        {
            foreach (var engine in engines)
            {
                await engine.DisposeAsync();
            }
        }
    }
}
