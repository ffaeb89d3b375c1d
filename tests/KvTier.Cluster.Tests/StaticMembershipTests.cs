using KvTier.Cluster.Membership;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace KvTier.Cluster.Tests;

/// <summary>Static membership's probing and what it tells the operator, with a scripted probe (no network).</summary>
public sealed class StaticMembershipTests
{
    private static readonly ClusterMember Self = new("self", "127.0.0.1:1", "127.0.0.1:2", TestBlocks.Seed, 1 << 20);

    [Fact]
    public async Task A_peer_that_never_answers_is_warned_about_once_with_the_reason_and_what_peers_takes()
    {
        var logger = new FakeLogger();
        var answers = false;
        var membership = new StaticMembership(Self, ["10.0.0.9:50052"], (endpoint, _) => answers
            ? Task.FromResult(new ClusterMember("peer", endpoint, "10.0.0.9:50053", TestBlocks.Seed, 1 << 20))
            : Task.FromException<ClusterMember>(new IOException("the response ended prematurely")), logger: logger);

        for (var probe = 0; probe < StaticMembership.FailuresBeforeDown + 2; probe++)
        {
            await membership.ProbeAllAsync(CancellationToken.None);
        }

        var warning = Assert.Single(logger.Collector.GetSnapshot(), r => r.Level == LogLevel.Warning);
        Assert.Contains("Peer 10.0.0.9:50052 (--peers) has not answered", warning.Message, StringComparison.Ordinal);
        Assert.Contains("the response ended prematurely", warning.Message, StringComparison.Ordinal);
        Assert.Contains("gRPC --listen addresses", warning.Message, StringComparison.Ordinal);
        Assert.Equal(["self"], membership.View.Members.Select(m => m.NodeId));

        answers = true;
        await membership.ProbeAllAsync(CancellationToken.None);

        Assert.Contains(logger.Collector.GetSnapshot(), r => r.Level == LogLevel.Information && r.Message.Contains("Member peer at 10.0.0.9:50052 is up", StringComparison.Ordinal));
        Assert.Equal(["peer", "self"], membership.View.Members.Select(m => m.NodeId));
        await membership.DisposeAsync();
    }
}
