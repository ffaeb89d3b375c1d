using System.Diagnostics;
using KvTier.Client;
using KvTier.Core;
using KvTier.Transfer;
using Rpc = KvTier.Protos.V1;

namespace KvTier.EngineSim;

/// <summary>
/// A reference inference engine: real prefill (<see cref="ReferenceModel"/>), a VRAM-like pool of block slots in a
/// shared-memory file (vLLM paged layout) registered with a KvTier sidecar, LRU eviction that offloads evicted blocks,
/// and for each request: hash chain → own pool → Lookup → Onload → prefill only the rest.
/// </summary>
public sealed class SimulatedEngine : IAsyncDisposable
{
    private readonly ReferenceModel _model;
    private readonly KvTierClient _client;
    private readonly BlockHasher _hasher;
    private readonly VramPool _vram;
    private readonly KvPoolSpec _spec;
    private readonly SharedMemoryPool _memory;
    private readonly string _path;
    private readonly byte[] _block;
    private readonly EngineOptions _options;
    private double _msPerToken = 0.5; // prefill speed, learned from this engine's own prefills (for lease ETAs)
    private string _poolId = "";

    private SimulatedEngine(ReferenceModel model, KvTierClient client, string hashSeed, int vramBlocks, string path, EngineOptions options)
    {
        _options = options;
        _model = model;
        _client = client;
        _hasher = new BlockHasher(hashSeed, model.Geometry.BlockTokens);
        _vram = new VramPool(vramBlocks);
        _spec = new KvPoolSpec(model.Geometry, KvPoolLayout.VllmPaged, vramBlocks);
        _path = SharedMemoryPool.Create(path, _spec.PoolBytes);
        _memory = new SharedMemoryPool(path, _spec.PoolBytes);
        _block = new byte[_spec.BlockBytes];
    }

    /// <summary>Creates the pool file and registers it with the sidecar.</summary>
    public static async Task<SimulatedEngine> StartAsync(ReferenceModel model, KvTierClient client, string hashSeed, int vramBlocks,
        string poolPath, EngineOptions? options = null, CancellationToken cancellationToken = default)
    {
        var engine = new SimulatedEngine(model, client, hashSeed, vramBlocks, poolPath, options ?? new EngineOptions());
        engine._poolId = await client.RegisterPoolAsync(engine._spec.Geometry, Rpc.PoolLayout.VllmPaged, vramBlocks, poolPath,
            Environment.ProcessId, cancellationToken).ConfigureAwait(false);
        return engine;
    }

    /// <summary>Serves one prompt; with <paramref name="verify"/> every onloaded block is recomputed and compared.</summary>
    public async Task<EngineRequestResult> RunAsync(int[] tokens, bool verify, CancellationToken cancellationToken = default)
    {
        var keys = _hasher.HashChain(tokens);
        var kv = _model.CreateKvBuffer(Math.Max(tokens.Length, _model.Geometry.BlockTokens));
        var watch = Stopwatch.StartNew();
        _vram.UnpinAll();

        // 1. The engine's own pool.
        var vram = 0;
        for (int slot; vram < keys.Length && (slot = _vram.Find(keys[vram])) >= 0; vram++)
        {
            _vram.Pin(keys[vram]);
            LoadIntoKv(kv, vram, slot);
        }

        // 2. KvTier: the longest cached continuation, onloaded into freshly allocated slots.
        var onloadedBlocks = new List<(int Block, int Slot)>();
        var (onloaded, offloaded, decision, onloadMs) = vram < keys.Length
            ? await LoadFromTierAsync(tokens, keys, vram, kv, onloadedBlocks, cancellationToken).ConfigureAwait(false)
            : (0, 0, "none", 0.0);

        // 2b. Fleet-wide single-flight: if another engine is already computing this prompt, wait for it and fetch.
        var leaseHeld = false;
        // Bounded by time, not rounds (a round count would give up on a holder that is merely slow). The wait is a long
        // poll: the sidecar answers the moment the holder releases the lease (or it lapses), so nothing polls.
        var waiting = Stopwatch.StartNew();
        while (_options.SingleFlight && vram + onloaded < keys.Length && waiting.Elapsed < _options.MaxPrefillWait)
        {
            var eta = (uint)Math.Ceiling((tokens.Length - (vram + onloaded) * _model.Geometry.BlockTokens) * _msPerToken * 1.5);
            var lease = await _client.BeginPrefillAsync(keys[^1], _options.EngineId, eta, cancellationToken).ConfigureAwait(false);
            if (lease.Acquired)
            {
                leaseHeld = true;
                break;
            }

            var left = (_options.MaxPrefillWait - waiting.Elapsed).TotalMilliseconds;
            await _client.AwaitPrefillAsync(keys[^1], (uint)Math.Clamp(Math.Ceiling(left), 1, 60_000), cancellationToken).ConfigureAwait(false);
            var more = await LoadFromTierAsync(tokens, keys, vram + onloaded, kv, onloadedBlocks, cancellationToken).ConfigureAwait(false);
            (onloaded, offloaded, decision, onloadMs) = (onloaded + more.Onloaded, offloaded + more.Offloaded, more.Decision, onloadMs + more.OnloadMs);
        }

        // 3. Prefill only what was not cached.
        var cachedTokens = (vram + onloaded) * _model.Geometry.BlockTokens;
        var prefillWatch = Stopwatch.StartNew();
        _model.Prefill(tokens, cachedTokens, kv);
        var prefillMs = prefillWatch.Elapsed.TotalMilliseconds;
        if (tokens.Length > cachedTokens)
        {
            _msPerToken = 0.7 * _msPerToken + 0.3 * prefillMs / (tokens.Length - cachedTokens);
        }
        var ttft = watch.Elapsed;
        if (_options.Device is not null)
        {
            // What really happened teaches the sidecar's cost model.
            await _client.ReportTimingAsync(new Rpc.TimingReport
            {
                Model = _model.Preset.Name,
                Device = _options.Device,
                PrefillTokens = (uint)(tokens.Length - cachedTokens),
                CachedTokens = (uint)cachedTokens,
                PrefillMs = prefillMs,
                FetchedBlocks = (uint)onloaded,
                FetchMs = onloaded > 0 ? onloadMs : 0,
            }, cancellationToken).ConfigureAwait(false);
        }

        // 4. Keep the new full blocks in the pool (evicting, and offloading, what has to make room).
        var computed = new List<(BlockKey Key, int Slot)>();
        var (newSlots, evictedCount) = await AllocateAsync(keys.Length - (vram + onloaded), cancellationToken).ConfigureAwait(false);
        offloaded += evictedCount;
        foreach (var (slot, b) in newSlots.Select((slot, i) => (slot, vram + onloaded + i)))
        {
            kv.ReadBlock(b, _block);
            unsafe
            {
                HostCopier.Scatter(_spec, _block, _memory.Pointer, slot);
            }

            _vram.Insert(keys[b], slot);
            _vram.Pin(keys[b]);
            computed.Add((keys[b], slot));
        }

        // Write-through: the tier gets what was just computed at once (other engines may be waiting for it), then the
        // lease is released.
        if (_options.WriteThrough && computed.Count > 0)
        {
            var stored = await _client.OffloadAsync(_poolId, computed, cancellationToken: cancellationToken).ConfigureAwait(false);
            offloaded += stored.Count(r => r == Rpc.BlockResult.Ok);
        }

        if (leaseHeld)
        {
            await _client.EndPrefillAsync(keys[^1], _options.EngineId, cancellationToken).ConfigureAwait(false);
        }

        var (verified, mismatched) = verify ? Verify(tokens, kv, onloadedBlocks) : (0, 0);
        return new EngineRequestResult(tokens.Length, vram, onloaded, tokens.Length - cachedTokens, offloaded, ttft, verified, mismatched, decision);
    }

    // Looks up the chain from block `from`, onloads the leading cached run the plan says to fetch, and loads it into kv.
    private async Task<(int Onloaded, int Offloaded, string Decision, double OnloadMs)> LoadFromTierAsync(int[] tokens, BlockKey[] keys,
        int from, KvBuffer kv, List<(int Block, int Slot)> onloadedBlocks, CancellationToken cancellationToken)
    {
        var onloaded = 0;
        var plan = _options.Device is null ? null : new Rpc.PlanOptions
        {
            Model = _model.Preset.Name,
            Device = _options.Device,
            PromptTokens = (uint)(tokens.Length - from * _model.Geometry.BlockTokens),
        };
        var lookup = await _client.LookupAsync(keys[from..], plan, cancellationToken).ConfigureAwait(false);
        var decision = lookup.Plan?.Decision ?? "fetch";
        var fetch = lookup.Plan is { } p ? (int)p.FetchBlocks : lookup.Prefix;
        var (slots, offloaded) = await AllocateAsync(fetch, cancellationToken).ConfigureAwait(false);
        var wanted = slots.Select((slot, i) => (Key: keys[from + i], Slot: slot)).ToList();
        foreach (var (key, _) in wanted)
        {
            _vram.Pin(key); // the request in flight keeps its blocks
        }

        var onloadWatch = Stopwatch.StartNew();
        var results = wanted.Count == 0 ? [] : await _client.OnloadAsync(_poolId, wanted, cancellationToken).ConfigureAwait(false);
        var onloadMs = onloadWatch.Elapsed.TotalMilliseconds;
        for (var i = 0; i < wanted.Count; i++)
        {
            // Only a leading run of OK blocks is usable: a gap means recomputing from there.
            if (results[i] == Rpc.BlockResult.Ok && onloaded == i)
            {
                _vram.Insert(wanted[i].Key, wanted[i].Slot);
                LoadIntoKv(kv, from + i, wanted[i].Slot);
                onloadedBlocks.Add((from + i, wanted[i].Slot));
                onloaded++;
            }
            else
            {
                _vram.Release(wanted[i].Slot);
            }
        }

        return (onloaded, offloaded, decision, onloadMs);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await _client.UnregisterPoolAsync(_poolId).ConfigureAwait(false);
        }
        finally
        {
            _memory.Dispose();
            File.Delete(_path);
        }
    }

    // A full prefill from scratch must give bit-identical K/V for every block that came from KvTier.
    private (int Verified, int Mismatched) Verify(int[] tokens, KvBuffer kv, List<(int Block, int Slot)> onloaded)
    {
        if (onloaded.Count == 0)
        {
            return (0, 0);
        }

        var fresh = _model.CreateKvBuffer(kv.CapacityTokens);
        _model.Prefill(tokens, 0, fresh);
        var expected = new byte[_spec.BlockBytes];
        var mismatched = 0;
        foreach (var (block, _) in onloaded)
        {
            fresh.ReadBlock(block, expected);
            kv.ReadBlock(block, _block);
            mismatched += expected.AsSpan().SequenceEqual(_block) ? 0 : 1;
        }

        return (onloaded.Count, mismatched);
    }

    private void LoadIntoKv(KvBuffer kv, int block, int slot)
    {
        unsafe
        {
            HostCopier.Gather(_spec, _memory.Pointer, slot, _block);
        }

        kv.WriteBlock(block, _block);
    }

    // Slots for `count` new blocks (fewer when the whole pool is pinned). Blocks evicted to make room are offloaded in
    // one batch before any of their slots is overwritten: this is the eviction path that feeds the tier.
    private async Task<(List<int> Slots, int Offloaded)> AllocateAsync(int count, CancellationToken cancellationToken)
    {
        var slots = new List<int>(count);
        var evicted = new List<(BlockKey Key, int Slot)>();
        while (slots.Count < count && _vram.Allocate(out var e) is var slot && slot >= 0)
        {
            slots.Add(slot);
            if (e is { } block)
            {
                evicted.Add(block);
            }
        }

        if (evicted.Count == 0)
        {
            return (slots, 0);
        }

        var results = await _client.OffloadAsync(_poolId, evicted, cancellationToken: cancellationToken).ConfigureAwait(false);
        return (slots, results.Count(r => r == Rpc.BlockResult.Ok));
    }
}
