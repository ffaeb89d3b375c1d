using KvTier.Policy;

namespace KvTier.Policy.Tests;

public sealed class PrefillCostModelTests
{
    private static readonly (int Tokens, int Cached)[] Shapes =
        [(16, 0), (256, 0), (1024, 0), (4096, 0), (64, 2048), (512, 1024), (2048, 2048), (128, 8192)];

    [Fact]
    public void Recompute_cost_is_overhead_plus_linear_plus_attention_over_context()
    {
        var model = new PrefillCostModel(Fixture.Profile(2, 0.05, 1e-5));

        // 2 + 0.05 × 100 + 1e-5 × 100 × (1000 + 50)
        Assert.Equal(2 + 5 + 1.05, model.RecomputeMs(100, 1000), 9);
        Assert.Equal(2 + 0.05 + (1e-5 * 0.5), model.RecomputeMs(0, 0), 9);
        Assert.Same(model.Current, model.Current);
        Assert.Equal(0, model.Observations);
    }

    [Fact]
    public void Refit_converges_to_the_true_coefficients_from_a_wrong_profile()
    {
        var truth = Fixture.Profile(3, 0.12, 4e-6);
        var model = new PrefillCostModel(Fixture.Profile(3, 0.04, 1.5e-6));

        for (var i = 0; i < 200; i++)
        {
            var (n, c) = Shapes[i % Shapes.Length];
            model.ObservePrefill(n, c, TimeSpan.FromMilliseconds(truth.RecomputeMs(n, c)));
        }

        var fitted = model.Current;
        Assert.Equal(0.12, fitted.LinearMsPerToken, 0.12 * 0.01);
        Assert.Equal(4e-6, fitted.AttentionMsPerTokenPair, 4e-6 * 0.01);
        Assert.Equal(3, fitted.OverheadMs);
        Assert.Contains("refitted online from 200 reported prefills", fitted.Source, StringComparison.Ordinal);
        Assert.Equal(200, model.Observations);
    }

    [Fact]
    public void Refit_learns_an_attention_term_the_profile_left_out()
    {
        var truth = Fixture.Profile(0, 0.03, 2e-5);
        var model = new PrefillCostModel(Fixture.Profile(0, 0.03, 0));

        for (var i = 0; i < 300; i++)
        {
            var (n, c) = Shapes[i % Shapes.Length];
            model.ObservePrefill(n, c, TimeSpan.FromMilliseconds(truth.RecomputeMs(n, c)));
        }

        Assert.Equal(2e-5, model.Current.AttentionMsPerTokenPair, 2e-5 * 0.02);
    }

    [Fact]
    public void One_outlier_moves_the_prediction_by_a_bounded_step()
    {
        var profile = Fixture.Profile(1, 0.05, 1e-6);
        var model = new PrefillCostModel(profile);
        var before = model.RecomputeMs(1000, 0);

        model.ObservePrefill(1000, 0, TimeSpan.FromSeconds(100)); // a stalled step: 1,800× the prediction

        var after = model.RecomputeMs(1000, 0);
        Assert.InRange(after, before * 1.5, before * 4);

        for (var i = 0; i < 60; i++)
        {
            var (n, c) = Shapes[i % Shapes.Length];
            model.ObservePrefill(n, c, TimeSpan.FromMilliseconds(profile.RecomputeMs(n, c)));
        }

        Assert.Equal(before, model.RecomputeMs(1000, 0), before * 0.02);
    }

    [Fact]
    public void Prefills_faster_than_the_overhead_do_not_drive_coefficients_to_zero()
    {
        var model = new PrefillCostModel(Fixture.Profile(10, 0.05, 1e-6));
        for (var i = 0; i < 100; i++)
        {
            model.ObservePrefill(64, 0, TimeSpan.FromMilliseconds(1));
        }

        Assert.True(model.Current.LinearMsPerToken > 0);
        Assert.True(model.RecomputeMs(1000, 0) > model.RecomputeMs(10, 0));
    }

    [Fact]
    public void Bad_reports_and_options_are_refused()
    {
        var model = new PrefillCostModel(Fixture.Profile(1, 0.05, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.ObservePrefill(0, 0, TimeSpan.FromMilliseconds(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.ObservePrefill(1, -1, TimeSpan.FromMilliseconds(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.ObservePrefill(1, 0, TimeSpan.FromMilliseconds(-1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PrefillCostModel(Fixture.Profile(1, 0.05, 0), alpha: 0));
        Assert.Throws<ArgumentNullException>(() => new PrefillCostModel(null!));
    }
}
