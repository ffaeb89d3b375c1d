namespace KvTier.Bench;

/// <summary>
/// The named workloads of <c>kvtier bench workload</c>, cut from real tokenized text. Each is seeded: the same seed
/// gives the same requests. <c>full</c> runs larger versions (more conversations, longer shared prefixes).
/// </summary>
internal static class Workloads
{
    /// <summary>Names in run order (trace-replay and fleet-restart-stampede are run by their own drivers).</summary>
    public static IReadOnlyList<string> Names { get; } =
        ["multi-turn-chat", "agent-loop", "rag-shared-docs", "short-prompts", "noisy-neighbour", "fleet-restart-stampede", "trace-replay"];

    /// <summary>The requests of workload <paramref name="name"/>, in arrival order.</summary>
    public static IReadOnlyList<WorkloadRequest> Create(string name, TextCorpus corpus, int seed, bool full) => name switch
    {
        "multi-turn-chat" => MultiTurnChat(corpus, new Random(seed), "chat", systemTokens: full ? 8192 : 4096, conversations: full ? 16 : 8, turns: full ? 10 : 6),
        "agent-loop" => AgentLoop(corpus, new Random(seed + 1), agents: full ? 8 : 4, steps: full ? 12 : 8),
        "rag-shared-docs" => RagSharedDocs(corpus, new Random(seed + 2), requests: full ? 120 : 48),
        "short-prompts" => ShortPrompts(corpus, new Random(seed + 3), requests: full ? 200 : 80),
        "noisy-neighbour" => NoisyNeighbour(corpus, new Random(seed + 4), rounds: full ? 8 : 4),
        _ => throw new ArgumentException($"'{name}' is not a request-list workload: use one of {string.Join(", ", Names)}.", nameof(name)),
    };

    /// <summary>
    /// Conversations sharing one system prompt; each turn's prompt is the system prompt, every earlier user message
    /// and reply, and a new user message. Conversations interleave turn by turn, as a busy replica sees them.
    /// </summary>
    public static IReadOnlyList<WorkloadRequest> MultiTurnChat(TextCorpus corpus, Random random, string tenant, int systemTokens, int conversations, int turns, bool victim = false)
    {
        var system = corpus.Passage(random, systemTokens);
        var histories = Enumerable.Range(0, conversations).Select(_ => new List<int>(system)).ToArray();
        var requests = new List<WorkloadRequest>();
        for (var turn = 0; turn < turns; turn++)
        {
            for (var c = 0; c < conversations; c++)
            {
                var history = histories[c];
                history.AddRange(corpus.Passage(random, random.Next(60, 250)));
                requests.Add(new WorkloadRequest(c, tenant, [.. history], turn, victim));
                history.AddRange(corpus.Passage(random, random.Next(80, 300))); // the reply, part of the next turn's prompt
            }
        }

        return requests;
    }

    /// <summary>Agents that append an action and a tool result to their prompt at every step.</summary>
    private static IReadOnlyList<WorkloadRequest> AgentLoop(TextCorpus corpus, Random random, int agents, int steps)
    {
        var system = corpus.Passage(random, 2048);
        var prompts = Enumerable.Range(0, agents).Select(_ => new List<int>([.. system, .. corpus.Passage(random, 200)])).ToArray();
        var requests = new List<WorkloadRequest>();
        for (var step = 0; step < steps; step++)
        {
            for (var a = 0; a < agents; a++)
            {
                requests.Add(new WorkloadRequest(a, "agent", [.. prompts[a]], step));
                prompts[a].AddRange(corpus.Passage(random, random.Next(50, 150)));   // the agent's action
                prompts[a].AddRange(corpus.Passage(random, random.Next(200, 1200))); // the tool's result
            }
        }

        return requests;
    }

    /// <summary>
    /// Retrieval-augmented prompts: a short system prompt, three documents drawn by a Zipf popularity from a shared
    /// set (placed most popular first, so popular documents form shared prefixes), and a question.
    /// </summary>
    private static IReadOnlyList<WorkloadRequest> RagSharedDocs(TextCorpus corpus, Random random, int requests)
    {
        var system = corpus.Passage(random, 512);
        var docs = Enumerable.Range(0, 12).Select(_ => corpus.Passage(random, random.Next(800, 2500))).ToArray();
        var weights = Enumerable.Range(1, docs.Length).Select(rank => 1.0 / Math.Pow(rank, 1.1)).ToArray();
        var result = new List<WorkloadRequest>();
        for (var i = 0; i < requests; i++)
        {
            var chosen = new SortedSet<int>();
            while (chosen.Count < 3)
            {
                chosen.Add(Pick(random, weights));
            }

            var prompt = new List<int>(system);
            foreach (var d in chosen)
            {
                prompt.AddRange(docs[d]);
            }

            prompt.AddRange(corpus.Passage(random, random.Next(30, 100)));
            result.Add(new WorkloadRequest(i % 4, "rag", [.. prompt], -1));
        }

        return result;
    }

    /// <summary>Mostly prompts under 300 tokens: a short shared instruction and a question.</summary>
    private static IReadOnlyList<WorkloadRequest> ShortPrompts(TextCorpus corpus, Random random, int requests)
    {
        var system = corpus.Passage(random, 96);
        return Enumerable.Range(0, requests)
            .Select(i => new WorkloadRequest(i % 4, "short", [.. system, .. corpus.Passage(random, random.Next(20, 200))], -1))
            .ToArray();
    }

    /// <summary>
    /// A quiet tenant's chats (the victim) with a bursting tenant's long one-off prompts between their turns:
    /// the burst is large enough to push the quiet tenant's blocks out of a store without per-tenant quotas.
    /// </summary>
    private static IReadOnlyList<WorkloadRequest> NoisyNeighbour(TextCorpus corpus, Random random, int rounds)
    {
        var quiet = MultiTurnChat(corpus, random, "quiet", systemTokens: 2048, conversations: 4, turns: rounds, victim: true);
        var result = new List<WorkloadRequest>();
        for (var round = 0; round < rounds; round++)
        {
            result.AddRange(quiet.Where(r => r.Turn == round));
            for (var b = 0; b < 8; b++)
            {
                result.Add(new WorkloadRequest(4 + (b % 4), "burst", corpus.Passage(random, 3000), -1));
            }
        }

        return result;
    }

    private static int Pick(Random random, double[] weights)
    {
        var x = random.NextDouble() * weights.Sum();
        for (var i = 0; i < weights.Length; i++)
        {
            x -= weights[i];
            if (x <= 0)
            {
                return i;
            }
        }

        return weights.Length - 1;
    }
}
