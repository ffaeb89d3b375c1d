using Microsoft.ML.Tokenizers;

namespace KvTier.Bench;

/// <summary>
/// Real text tokenized with cl100k (Microsoft.ML.Tokenizers): the frozen corpus embedded in this assembly, one token
/// stream per document. Workloads cut their prompts from it, so every prompt is real, tokenized text.
/// </summary>
internal sealed class TextCorpus
{
    private readonly int[][] _documents;

    private TextCorpus(int[][] documents) => _documents = documents;

    /// <summary>Documents in the corpus.</summary>
    public int Documents => _documents.Length;

    /// <summary>Tokens in the whole corpus.</summary>
    public long Tokens => _documents.Sum(d => (long)d.Length);

    /// <summary>Tokenizes the embedded corpus (once per process: it takes about a second).</summary>
    public static TextCorpus Load() => Shared.Value;

    private static readonly Lazy<TextCorpus> Shared = new(() =>
    {
        var tokenizer = TiktokenTokenizer.CreateForEncoding("cl100k_base");
        var assembly = typeof(TextCorpus).Assembly;
        var documents = assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith("corpus/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(name =>
            {
                using var stream = assembly.GetManifestResourceStream(name)!;
                using var reader = new StreamReader(stream);
                return tokenizer.EncodeToIds(reader.ReadToEnd()).ToArray();
            })
            .ToArray();
        if (documents.Length == 0)
        {
            throw new InvalidOperationException("the workload corpus is missing from the KvTier.Bench assembly (Workload/corpus/*.txt).");
        }

        return new TextCorpus(documents);
    });

    /// <summary>
    /// <paramref name="tokens"/> consecutive tokens of real text from a document <paramref name="random"/> picks,
    /// at a random offset; longer than a document, it continues into the next one.
    /// </summary>
    public int[] Passage(Random random, int tokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(tokens);
        var result = new int[tokens];
        var doc = random.Next(_documents.Length);
        var offset = random.Next(_documents[doc].Length);
        for (var filled = 0; filled < tokens;)
        {
            var source = _documents[doc];
            var take = Math.Min(tokens - filled, source.Length - offset);
            source.AsSpan(offset, take).CopyTo(result.AsSpan(filled));
            filled += take;
            doc = (doc + 1) % _documents.Length;
            offset = 0;
        }

        return result;
    }
}
