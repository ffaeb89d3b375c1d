using KvTier.Core;
using KvTier.Policy;

namespace KvTier.Policy.Tests.Retention;

public sealed class RetentionJudgeTests
{
    [Fact]
    public void With_nothing_learned_an_untouched_block_goes_when_the_head_reaches_it()
    {
        var judge = new RetentionJudge(1024);
        judge.Stored(Key(1));
        StoreFresh(judge, from: 100, count: 50); // the rest of the log's trip

        Assert.False(judge.Keep(Key(1)));
        Assert.Equal(1, judge.LetGo);
        Assert.Equal(0, judge.Kept);
        Assert.False(judge.Keep(Key(1)), "a block let go is not known any more");
    }

    [Fact]
    public void A_block_looked_up_during_its_trip_makes_another_and_goes_on_the_next_if_untouched()
    {
        var judge = new RetentionJudge(1024);
        judge.Stored(Key(1));
        StoreFresh(judge, from: 100, count: 50);
        judge.Looked([Key(1), Key(2)], hit: 1); // an engine's lookup found it: a reuse
        StoreFresh(judge, from: 200, count: 10);

        Assert.True(judge.Keep(Key(1)));

        StoreFresh(judge, from: 300, count: 60); // a whole trip with no touch
        Assert.False(judge.Keep(Key(1)));
        Assert.Equal((1, 1), (judge.Kept, judge.LetGo));
    }

    [Fact]
    public void A_read_renews_recency_without_counting_a_reuse()
    {
        var judge = new RetentionJudge(1024);
        judge.Stored(Key(1));
        StoreFresh(judge, from: 100, count: 50);
        var before = judge.ReuseRateOf(Key(1));

        judge.Read(Key(1));
        StoreFresh(judge, from: 200, count: 10);

        Assert.Equal(before, judge.ReuseRateOf(Key(1)));
        Assert.True(judge.Keep(Key(1)));
    }

    [Fact]
    public void An_untouched_block_of_a_class_that_comes_back_outlives_one_trip_and_one_that_never_does_goes()
    {
        var judge = new RetentionJudge(4096);
        var next = 10_000;
        for (var round = 0; round < 200; round++)
        {
            // Single-block prompts come back once (a short chat turn) ...
            var chat = Key(next++);
            judge.Looked([chat], 0);
            judge.Stored(chat);
            judge.Looked([chat], 1);

            // ... 64-block first prompts never do, and leave when the head reaches them.
            var document = Enumerable.Range(0, 64).Select(_ => Key(next++)).ToArray();
            judge.Looked(document, 0);
            foreach (var block in document)
            {
                judge.Stored(block);
            }

            foreach (var block in document)
            {
                judge.Keep(block);
            }
        }

        var freshChat = Key(next++);
        judge.Looked([freshChat], 0);
        judge.Stored(freshChat);
        var freshDocument = Enumerable.Range(0, 64).Select(_ => Key(next++)).ToArray();
        judge.Looked(freshDocument, 0);
        foreach (var block in freshDocument)
        {
            judge.Stored(block);
        }

        StoreFresh(judge, from: next, count: 100);
        Assert.True(judge.ReuseRateOf(freshChat) > judge.ReuseRateOf(freshDocument[0]));
        Assert.True(judge.Keep(freshChat), "a block of a class reused far above the mean went after one trip");
        Assert.False(judge.Keep(freshDocument[0]), "a block of a class never reused was kept");
    }

    [Fact]
    public void A_block_asked_for_again_after_it_was_let_go_counts_as_a_reuse_of_its_class()
    {
        var judge = new RetentionJudge(1024);
        judge.Looked([Key(1)], 0);
        judge.Stored(Key(1));
        StoreFresh(judge, from: 100, count: 50);
        Assert.False(judge.Keep(Key(1)));
        var rateBefore = judge.ReuseRateOf(Key(100))!.Value; // a fresh block's class, the same New(0, 1)

        judge.Looked([Key(1)], 0); // missed in the store, remembered here
        judge.Stored(Key(1));

        Assert.True(judge.ReuseRateOf(Key(100))!.Value > rateBefore);
    }

    [Fact]
    public void Bookkeeping_stays_within_the_tracked_bound()
    {
        var judge = new RetentionJudge(1024);
        var chain = Enumerable.Range(0, 5000).Select(Key).ToArray();
        judge.Looked(chain, 0); // 5000 misses: pending classes
        for (var i = 0; i < chain.Length; i++)
        {
            judge.Stored(chain[i]);
            if (i % 2 == 0)
            {
                judge.Keep(chain[i]);
            }
        }

        judge.Looked(Enumerable.Range(10_000, 5000).Select(Key).ToArray(), 0);

        Assert.InRange(judge.Held, 1, 1024);
        var (pending, ghosts) = judge.Bookkeeping;
        Assert.InRange(pending, 1, 1024);
        Assert.InRange(ghosts, 1, 1024);
    }

    [Fact]
    public void A_forgotten_block_is_let_go_without_counting_against_its_class()
    {
        var judge = new RetentionJudge(1024);
        judge.Stored(Key(1));
        judge.Stored(Key(2));
        var rate = judge.ReuseRateOf(Key(2));

        judge.Forget(Key(1));

        Assert.Equal(1, judge.Held);
        Assert.False(judge.Keep(Key(1)));
        Assert.Equal(rate, judge.ReuseRateOf(Key(2)));
        Assert.Equal(0, judge.LetGo);
    }

    [Fact]
    public void Misuse_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new RetentionJudge(0));
        var judge = new RetentionJudge(16);
        Assert.Throws<ArgumentOutOfRangeException>(() => judge.Looked([Key(1)], 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => judge.Looked([Key(1)], -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RetentionJudge(16, new KvTierRetentionOptions { GhostRatio = -1 }));
    }

    private static void StoreFresh(RetentionJudge judge, int from, int count)
    {
        for (var i = from; i < from + count; i++)
        {
            judge.Stored(Key(i));
        }
    }

    private static BlockKey Key(int i)
    {
        Span<byte> bytes = stackalloc byte[BlockKey.Size];
        BitConverter.TryWriteBytes(bytes, i);
        bytes[31] = 0x5a;
        return new BlockKey(bytes);
    }
}
