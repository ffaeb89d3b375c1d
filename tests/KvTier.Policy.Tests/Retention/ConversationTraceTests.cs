using KvTier.Policy;

namespace KvTier.Policy.Tests.Retention;

public sealed class ConversationTraceTests
{
    private const string Good = """{"timestamp": 0, "input_length": 1100, "output_length": 7, "hash_ids": [0, 1, 2]}""";

    [Fact]
    public void Parses_requests_and_their_block_sizes()
    {
        var trace = ConversationTrace.Parse(new StringReader(Good + "\n\n" + """{"timestamp": 5, "input_length": 1024, "output_length": 0, "hash_ids": [0, 9]}"""), "t");

        Assert.Equal(2, trace.Requests.Count);
        var first = trace.Requests[0];
        Assert.Equal([0L, 1, 2], first.HashIds);
        Assert.Equal(2, first.FullBlockCount);
        Assert.Equal([512, 512, 76], Enumerable.Range(0, 3).Select(first.BlockTokens));
        Assert.Equal(2, trace.Requests[1].FullBlockCount);
        Assert.Equal(5, trace.Requests[1].TimestampMs);
    }

    [Theory]
    [InlineData("""{"timestamp": 0, "input_length": 1100, "output_length": 7, "hash_ids": [0, "x", 2]}""", "hash_ids")]
    [InlineData("""{"timestamp": 0, "input_length": 1100, "output_length": 7, "hash_ids": [0, 1]}""", "hash_ids")]
    [InlineData("""{"timestamp": 0, "output_length": 7, "hash_ids": [0, 1, 2]}""", "input_length")]
    [InlineData("""{"timestamp": -3, "input_length": 1100, "output_length": 7, "hash_ids": [0, 1, 2]}""", "timestamp")]
    [InlineData("""{"timestamp": 0, "input_length": 1100, "output_length": 1.5, "hash_ids": [0, 1, 2]}""", "output_length")]
    public void A_bad_line_names_the_file_the_line_and_the_field(string bad, string field)
    {
        var path = Path.Combine(Path.GetTempPath(), $"trace-{Guid.NewGuid():N}.jsonl");
        File.WriteAllText(path, Good + "\n" + Good + "\n" + bad + "\n");
        try
        {
            var e = Assert.Throws<FormatException>(() => ConversationTrace.Load(path));

            Assert.Contains($"{path}:3:", e.Message, StringComparison.Ordinal);
            Assert.Contains($"'{field}'", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_line_that_is_not_json_names_the_line()
    {
        var e = Assert.Throws<FormatException>(() => ConversationTrace.Parse(new StringReader(Good + "\n{oops"), "t.jsonl"));

        Assert.StartsWith("t.jsonl:2:", e.Message, StringComparison.Ordinal);
    }
}
