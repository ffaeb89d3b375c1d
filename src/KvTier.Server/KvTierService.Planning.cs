using Grpc.Core;
using KvTier.Policy;
using KvTier.Server.Auth;
using Rpc = KvTier.Protos.V1;

namespace KvTier.Server;

internal sealed partial class KvTierService
{
    /// <summary>Teaches the caller's tenant's cost model what a prefill or a fetch really took.</summary>
    public override Task<Rpc.TimingAck> ReportTiming(Rpc.TimingReport request, ServerCallContext context)
    {
        var planner = PlannerFor(context, request.Model, request.Device);
        if (!double.IsFinite(request.PrefillMs) || request.PrefillMs < 0 || !double.IsFinite(request.FetchMs) || request.FetchMs < 0)
        {
            throw Reject(context, StatusCode.InvalidArgument, "prefill_ms and fetch_ms: give finite, non-negative milliseconds");
        }

        if (request.PrefillMs > 0)
        {
            if (request.PrefillTokens == 0)
            {
                throw Reject(context, StatusCode.InvalidArgument, "prefill_tokens: a prefill report needs the number of tokens it computed");
            }

            planner.Cost.ObservePrefill((int)request.PrefillTokens, (int)request.CachedTokens, TimeSpan.FromMilliseconds(request.PrefillMs));
        }

        if (request.FetchMs > 0 && request.FetchedBlocks > 0)
        {
            planner.Cost.ObserveFetch(PlanningService.Source(request.SourceNode), (int)request.FetchedBlocks, TimeSpan.FromMilliseconds(request.FetchMs));
        }

        return Task.FromResult(new Rpc.TimingAck
        {
            PrefillEstimateMs = planner.Cost.RecomputeMs((int)Math.Max(1, request.PrefillTokens), (int)request.CachedTokens),
        });
    }

    // The cached prefix is a list of runs by where the blocks live; the planner picks how much of it to fetch.
    private Rpc.FetchPlan PlanFor(ServerCallContext context, Rpc.PlanOptions options, int chainBlocks,
        Google.Protobuf.Collections.RepeatedField<Rpc.BlockLocation> locations)
    {
        var planner = PlannerFor(context, options.Model, options.Device);
        var runs = new List<CachedRun>();
        FetchSource? current = null;
        var count = 0;
        foreach (var location in locations)
        {
            var source = location.Location switch
            {
                Rpc.Location.LocalSsd => FetchSource.LocalSsd,
                Rpc.Location.Remote => FetchSource.Peer(location.NodeId),
                _ => FetchSource.LocalDram,
            };
            if (current == source)
            {
                count++;
                continue;
            }

            if (current is { } done)
            {
                runs.Add(new CachedRun(done, count));
            }

            (current, count) = (source, 1);
        }

        if (current is { } last)
        {
            runs.Add(new CachedRun(last, count));
        }

        var tail = Math.Max(0, (int)options.PromptTokens - chainBlocks * planner.Cost.Geometry.BlockTokens);
        if (chainBlocks == 0 && tail == 0)
        {
            throw Reject(context, StatusCode.InvalidArgument, "plan: an empty prompt has nothing to plan; send the prompt's keys, or plan.prompt_tokens for a prompt shorter than one block");
        }

        var plan = planner.Choose(new PlanRequest(chainBlocks, runs, options.LayerwiseOverlap, tail));
        _metrics.Plan(plan.Decision, plan.RecomputeAllTtftMs, plan.ChosenTtftMs);
        return new Rpc.FetchPlan
        {
            Decision = plan.Decision.ToString().ToLowerInvariant(),
            FetchBlocks = (uint)plan.FetchBlocks,
            RecomputeTokens = (uint)plan.RecomputeTokens,
            ChosenTtftMs = plan.ChosenTtftMs,
            FetchAllTtftMs = plan.FetchAllTtftMs,
            RecomputeAllTtftMs = plan.RecomputeAllTtftMs,
            Reason = plan.Reason,
            ProfileSource = planner.Cost.Prefill.Current.Source,
        };
    }

    private Planner PlannerFor(ServerCallContext context, string model, string device)
    {
        try
        {
            return _planning.For(CallScope.Of(context).Tenant, model, device);
        }
        catch (ArgumentException e)
        {
            throw Reject(context, StatusCode.InvalidArgument, $"model/device: {e.Message}");
        }
    }
}
