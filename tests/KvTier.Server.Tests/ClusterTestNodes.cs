using System.Net;
using System.Net.Sockets;
using KvTier.Cluster.Membership;
using KvTier.Server;

namespace KvTier.Server.Tests;

/// <summary>Helpers the in-process cluster tests share.</summary>
internal static class ClusterTestNodes
{
    /// <summary>A node's membership (not public API: the tests drive its probes instead of waiting for the timer).</summary>
    public static IMembership MembershipOf(KvTierServer server) =>
        (IMembership)typeof(KvTier.Cluster.Runtime.ClusterNode)
            .GetField("_membership", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!
            .GetValue(server.Cluster.Node)!;

    /// <summary>A loopback port free right now (the OS picks it).</summary>
    public static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
