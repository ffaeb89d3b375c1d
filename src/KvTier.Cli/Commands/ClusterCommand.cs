using System.CommandLine;
using System.Globalization;
using System.Text;
using KvTier.Core;
using Rpc = KvTier.Protos.V1;

namespace KvTier.Cli.Commands;

/// <summary><c>kvtier cluster status</c>: members as one node sees them.</summary>
internal static class ClusterCommand
{
    public static Command Create()
    {
        var command = new Command("cluster", "Cluster operations.");
        var status = new Command("status", "Members, up or down, their blocks and bytes, and replication counters.");
        var client = new ClientFlags(status);
        status.SetAction((parse, ct) => client.RunAsync(parse, async kv =>
        {
            Console.Out.Write(Render(await kv.ClusterStatusAsync(ct).ConfigureAwait(false)));
            return ExitCodes.Ok;
        }));
        command.Subcommands.Add(status);
        return command;
    }

    internal static string Render(Rpc.ClusterStatusResponse status)
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(c, $"cluster {status.Cluster}: {status.Members.Count} members ({status.Membership} membership), replicas {status.Replicas}, write-ack {status.WriteAck}");
        text.AppendLine(c, $"{"node",-16} {"state",-5} {"blocks",9} {"bytes",10}  grpc / data");
        foreach (var m in status.Members)
        {
            var n = m.Node;
            var state = m.Up ? "up" : "down";
            var self = m.Self ? " (this node)" : "";
            text.AppendLine(c, $"{n.NodeId,-16} {state,-5} {n.DramBlocks,9} {ByteSize.Format((long)n.DramBytes),10}  {n.GrpcEndpoint} / {(n.DataEndpoint.Length == 0 ? "-" : n.DataEndpoint)}{self}");
        }

        text.AppendLine(c, $"replication: {status.ReplicatedBlocks} copies stored, {status.ReplicationFailures} failed, {status.ReplicationQueue} queued; {status.RemoteFetches} remote fetches ({status.HedgedFetches} hedged, {status.RemoteFetchMisses} missed)");
        return text.ToString();
    }
}
