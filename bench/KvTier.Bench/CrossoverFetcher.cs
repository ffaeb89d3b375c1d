using KvTier.Core;
using KvTier.Store;

namespace KvTier.Bench;

/// <summary>
/// The fetch side of the crossover benchmark, all in this process: a peer's <see cref="BlockStore"/> holding a fixed
/// set of blocks (filled once, before any timing), fetched a prefix at a time in one GET batch over a
/// <see cref="ShapedPeerLink"/>. Prefixes longer than the set cycle through its keys: block i of a prefix is set block
/// i mod set size.
/// </summary>
internal sealed class CrossoverFetcher : IAsyncDisposable
{
    private const string Tenant = "bench";

    private readonly BlockStore _store;
    private readonly ShapedPeerLink _link;
    private readonly BlockKey[] _keys;

    private CrossoverFetcher(BlockStore store, ShapedPeerLink link, BlockKey[] keys)
    {
        _store = store;
        _link = link;
        _keys = keys;
    }

    /// <summary>Fills the store, starts the server, the link and the client, and opens the client's connection.</summary>
    public static async Task<CrossoverFetcher> StartAsync(CrossoverBenchOptions options, IProgress<BenchProgress>? progress, CancellationToken ct)
    {
        var geometry = options.Geometry;
        var blockBytes = checked((int)geometry.BytesPerBlock);
        var setBlocks = options.SetBlocks;
        progress?.Report(new BenchProgress("fill the peer's store", 0));
        var store = new BlockStore(options.Store);
        try
        {
            var setKeys = new BlockKey[setBlocks];
            var payload = GC.AllocateUninitializedArray<byte>(blockBytes);
            new Random(1).NextBytes(payload);
            for (var i = 0; i < setBlocks; i++)
            {
                ct.ThrowIfCancellationRequested();
                setKeys[i] = BenchKeys.Of("crossover", 0, i);
                BitConverter.TryWriteBytes(payload, i); // distinct payloads
                var status = store.Put(Tenant, setKeys[i], payload, geometry.Fingerprint);
                if (status != BlockStatus.Ok)
                {
                    throw new InvalidOperationException($"filling the peer's store: block {i} of {setBlocks} was refused ({status}).");
                }

                if (i % 64 == 0)
                {
                    progress?.Report(new BenchProgress("fill the peer's store", (double)i / setBlocks));
                }
            }

            var keys = new BlockKey[options.BlocksFor(options.MaxTokens)];
            for (var i = 0; i < keys.Length; i++)
            {
                keys[i] = setKeys[i % setBlocks];
            }

            var slots = (int)Math.Clamp(options.DestinationBytes / blockBytes, 1, setBlocks);
            var link = await ShapedPeerLink.StartAsync(store, options.Link, blockBytes, slots, "crossover", ct).ConfigureAwait(false);
            progress?.Report(new BenchProgress("fill the peer's store", 1));
            return new CrossoverFetcher(store, link, keys);
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    /// <summary>Fetches the first <paramref name="blocks"/> blocks of the prefix in one GET batch; returns the wall time.</summary>
    /// <exception cref="InvalidOperationException">A block was not delivered (the run cannot be timed honestly).</exception>
    public async Task<TimeSpan> FetchAsync(int blocks, CancellationToken ct)
    {
        var (elapsed, result) = await _link.FetchAsync(Tenant, new ArraySegment<BlockKey>(_keys, 0, blocks), ct).ConfigureAwait(false);
        if (result.Found != blocks)
        {
            var missing = result.Statuses.Count(s => s != BlockStatus.Ok);
            throw new InvalidOperationException(
                $"a fetch of {blocks} blocks delivered {result.Found}: {missing} were not ok (first: {result.Statuses.First(s => s != BlockStatus.Ok)})"
                + (result.Failure is { } f ? $": {f.Message}" : "."));
        }

        return elapsed;
    }

    public async ValueTask DisposeAsync()
    {
        await _link.DisposeAsync().ConfigureAwait(false);
        _store.Dispose();
    }
}
