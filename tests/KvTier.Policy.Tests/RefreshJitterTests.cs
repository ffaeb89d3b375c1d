using KvTier.Policy;

namespace KvTier.Policy.Tests;

public sealed class RefreshJitterTests
{
    [Fact]
    public void Intervals_stay_within_plus_or_minus_the_fraction_and_spread_over_it()
    {
        var jitter = new RefreshJitter(0.2, seed: 42);
        var interval = TimeSpan.FromMinutes(10);

        var samples = Enumerable.Range(0, 10_000).Select(_ => jitter.Next(interval)).ToArray();

        Assert.All(samples, s => Assert.InRange(s, interval * 0.8, interval * 1.2));
        Assert.True(samples.Min() < interval * 0.81, "the low end is reached");
        Assert.True(samples.Max() > interval * 1.19, "the high end is reached");
        Assert.True(samples.Distinct().Count() > 9_000, "refreshes do not bunch on a few values");
    }

    [Fact]
    public void The_same_seed_gives_the_same_intervals_and_another_seed_different_ones()
    {
        var interval = TimeSpan.FromSeconds(30);
        TimeSpan[] Draw(int seed)
        {
            var jitter = new RefreshJitter(0.1, seed);
            return Enumerable.Range(0, 100).Select(_ => jitter.Next(interval)).ToArray();
        }

        Assert.Equal(Draw(7), Draw(7));
        Assert.NotEqual(Draw(7), Draw(8));
    }

    [Fact]
    public void Zero_fraction_gives_the_interval_itself()
    {
        Assert.Equal(TimeSpan.FromSeconds(30), new RefreshJitter(0, seed: 1).Next(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public void Bad_fractions_and_intervals_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new RefreshJitter(1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RefreshJitter(-0.1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RefreshJitter(double.NaN, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RefreshJitter(0.1, 0).Next(TimeSpan.Zero));
        Assert.Equal(0.1, new RefreshJitter(0.1, 0).Fraction);
    }
}
