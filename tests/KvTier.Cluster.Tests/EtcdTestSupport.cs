using System.Collections.Concurrent;
using KvTier.Cluster.Membership;
using Microsoft.Extensions.Logging;

namespace KvTier.Cluster.Tests;

/// <summary>Members, bounded waits and a recording logger for the etcd membership tests.</summary>
internal static class EtcdTestSupport
{
    public const string Seed = "5eed0000aaaa1111";

    public static ClusterMember Member(string nodeId, string seed = Seed) =>
        new(nodeId, $"http://{nodeId}.test:50051", $"{nodeId}.test:50061", seed, 1L << 30);

    /// <summary>A cluster name no other test uses, so one etcd serves every test of the class.</summary>
    public static string UniqueCluster() => "t" + Guid.NewGuid().ToString("N")[..12];

    public static string Ids(ClusterView view) => string.Join(",", view.Members.Select(m => m.NodeId));

    /// <summary>Waits (bounded) until the member's view satisfies <paramref name="condition"/>; fails with the view it has.</summary>
    public static async Task WaitForViewAsync(EtcdMembership membership, Func<ClusterView, bool> condition, TimeSpan timeout, string what)
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChanged(ClusterView view)
        {
            if (condition(view))
            {
                reached.TrySetResult();
            }
        }

        membership.Changed += OnChanged;
        try
        {
            if (condition(membership.View))
            {
                return;
            }

            await reached.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            var view = membership.View;
            Assert.Fail($"{what}: not within {timeout.TotalSeconds:0.#} s; {view.Self.NodeId} sees [{Ids(view)}] (view version {view.Version})");
        }
        finally
        {
            membership.Changed -= OnChanged;
        }
    }

    /// <summary>Waits until every member sees exactly <paramref name="nodeIds"/>.</summary>
    public static Task WaitForMembersAsync(IEnumerable<EtcdMembership> members, TimeSpan timeout, params string[] nodeIds)
    {
        var expected = string.Join(",", nodeIds.Order(StringComparer.Ordinal));
        return Task.WhenAll(members.Select(m =>
            WaitForViewAsync(m, v => Ids(v) == expected, timeout, $"{m.View.Self.NodeId} should see [{expected}]")));
    }
}

/// <summary>An <see cref="ILogger"/> that records event ids and messages and lets a test await one (bounded).</summary>
internal sealed class EtcdTestLogger : ILogger
{
    private readonly ConcurrentQueue<(int Id, string Message)> _entries = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource> _waiters = new();

    public IReadOnlyCollection<(int Id, string Message)> Entries => _entries;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        _entries.Enqueue((eventId.Id, formatter(state, exception)));
        Waiter(eventId.Id).TrySetResult();
    }

    /// <summary>Waits (bounded) until an entry with <paramref name="eventId"/> is logged (or was already).</summary>
    public async Task WaitForAsync(int eventId, TimeSpan timeout, string what)
    {
        try
        {
            await Waiter(eventId).Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"{what}: event {eventId} not logged within {timeout.TotalSeconds:0.#} s; logged: "
                + string.Join(" | ", _entries.Select(e => $"{e.Id} {e.Message}")));
        }
    }

    /// <summary>Forgets that <paramref name="eventId"/> was logged, so the next wait needs a new entry.</summary>
    public void Reset(int eventId) => _waiters.TryRemove(eventId, out _);

    private TaskCompletionSource Waiter(int eventId) =>
        _waiters.GetOrAdd(eventId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}
