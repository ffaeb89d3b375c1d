namespace KvTier.Policy;

/// <summary>Runs a trace through a retention policy: look each request up, then let the policy store it.</summary>
public static class TraceReplay
{
    /// <summary>
    /// Replays <paramref name="trace"/> through <paramref name="retention"/>. A request's hit is the longest leading
    /// run of its hash ids the policy holds; block i counts 512 tokens, the last the rest of the prompt.
    /// </summary>
    /// <param name="trace">The requests, replayed in order.</param>
    /// <param name="retention">The policy, usually empty; it is mutated.</param>
    /// <param name="offerPartialBlocks">
    /// Whether a request's partial last block is offered for storage too. False is what an engine does (a partial
    /// block has no stable key); true reproduces the plain-LRU baseline that stores every hash id.
    /// </param>
    /// <param name="progress">Receives the fraction of requests done, about every 1 %, and 1.0 at the end.</param>
    /// <exception cref="InvalidOperationException">The policy held more than its capacity after a request.</exception>
    public static TraceReplayResult Run(ConversationTrace trace, IBlockRetention retention, bool offerPartialBlocks = false, IProgress<double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(trace);
        ArgumentNullException.ThrowIfNull(retention);
        return Run(trace, retention.Name, retention.Capacity, request =>
        {
            var ids = request.HashIds;
            var hit = 0;
            while (hit < ids.Length && retention.Contains(ids[hit]))
            {
                hit++;
            }

            var offered = offerPartialBlocks ? ids.Length : request.FullBlockCount;
            retention.OnRequest(ids.AsSpan(0, offered), Math.Min(hit, offered));
            if (retention.Count > retention.Capacity)
            {
                throw new InvalidOperationException($"{retention.Name} holds {retention.Count} blocks, over its capacity of {retention.Capacity}");
            }

            return hit;
        }, progress);
    }

    /// <summary>
    /// Replays <paramref name="trace"/> through a pool that <paramref name="serve"/> drives: it looks a request up,
    /// stores what the pool keeps of it, and returns the request's hit (the longest leading run of its hash ids held).
    /// Token accounting as in the other overload.
    /// </summary>
    /// <param name="trace">The requests, replayed in order.</param>
    /// <param name="name">The pool's name for reports.</param>
    /// <param name="capacity">The pool's capacity in blocks, for reports.</param>
    /// <param name="serve">Looks one request up, then stores it; returns its hit in blocks.</param>
    /// <param name="progress">Receives the fraction of requests done, about every 1 %, and 1.0 at the end.</param>
    public static TraceReplayResult Run(ConversationTrace trace, string name, int capacity, Func<TraceRequest, int> serve, IProgress<double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(trace);
        ArgumentNullException.ThrowIfNull(serve);
        var requests = trace.Requests;
        var perRequest = new int[requests.Count];
        long promptTokens = 0, hitTokens = 0, promptBlocks = 0, hitBlocks = 0;
        var step = Math.Max(1, requests.Count / 100);
        for (var r = 0; r < requests.Count; r++)
        {
            var request = requests[r];
            var hit = serve(request);
            if (hit < 0 || hit > request.HashIds.Length)
            {
                throw new InvalidOperationException($"{name} reported a hit of {hit} blocks for a request of {request.HashIds.Length}");
            }

            for (var i = 0; i < hit; i++)
            {
                hitTokens += request.BlockTokens(i);
            }

            perRequest[r] = hit;
            hitBlocks += hit;
            promptBlocks += request.HashIds.Length;
            promptTokens += request.InputLength;
            if ((r + 1) % step == 0)
            {
                progress?.Report((double)(r + 1) / requests.Count);
            }
        }

        progress?.Report(1.0);
        return new TraceReplayResult(name, capacity, promptTokens, hitTokens, promptBlocks, hitBlocks, perRequest);
    }
}
