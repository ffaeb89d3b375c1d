using System.Net;
using Microsoft.Extensions.Logging;

namespace KvTier.Server.Auth;

/// <summary>
/// What a node that listens beyond loopback is missing: API keys, TLS, a cluster secret for the data plane. Each one
/// missing is a warning at start naming the setting that fixes it; the node still starts (a trusted network, a
/// service mesh or a NetworkPolicy may be the protection), and loopback-only nodes need none of them.
/// </summary>
internal static partial class Exposure
{
    /// <summary>Logs what authentication and TLS are on, and a warning per protection missing on an exposed listener.</summary>
    public static void Report(ServerOptions options, ILogger logger)
    {
        if (options.Auth.Enabled)
        {
            AuthOn(logger, options.Auth.ApiKeys.Count + options.Auth.AdminKeys.Count, options.Auth.AdminKeys.Count, string.Join(", ", options.Auth.Tenants));
        }

        var listen = options.ListenEndPoint;
        if (IPAddress.IsLoopback(listen.Address))
        {
            return;
        }

        if (!options.Auth.Enabled)
        {
            NoKeys(logger, options.Listen);
        }

        if (!options.Tls.Enabled)
        {
            NoTls(logger, options.Listen);
        }

        var data = options.DataListen is { } d && HostPort.TryParseListen(d, out var endpoint) ? endpoint.Address : listen.Address;
        if (options.IsClustered && options.ClusterSecret is null && !IPAddress.IsLoopback(data))
        {
            NoClusterSecret(logger, options.DataListen ?? $"{options.ListenEndPoint.Address} (a free port)");
        }
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Warning,
        Message = "gRPC listens on {Listen}, beyond loopback, without API keys: any client that reaches it reads and writes every block (tenant 'default'). "
        + "Configure KvTier:Auth:ApiKeys (key -> tenant; a Secret mounted as appsettings.json, or KVTIER__AUTH__APIKEYS__<key>=<tenant>), or listen on 127.0.0.1")]
    private static partial void NoKeys(ILogger logger, string listen);

    [LoggerMessage(EventId = 21, Level = LogLevel.Warning,
        Message = "gRPC listens on {Listen}, beyond loopback, without TLS: API keys and blocks cross the network in cleartext. "
        + "Give --tls-cert and --tls-key (PEM; KvTier:Tls:CertificateFile and KeyFile), or keep the port on a network you trust")]
    private static partial void NoTls(ILogger logger, string listen);

    [LoggerMessage(EventId = 22, Level = LogLevel.Warning,
        Message = "the peer data plane on {DataListen} has no cluster secret: any host that reaches it can read and write blocks of every tenant. "
        + "Give every member the same --cluster-secret (KVTIER__CLUSTERSECRET)")]
    private static partial void NoClusterSecret(ILogger logger, string dataListen);

    [LoggerMessage(EventId = 23, Level = LogLevel.Information,
        Message = "authentication on: {Keys} API keys ({AdminKeys} admin) for tenants {Tenants}; every call needs 'authorization: Bearer <key>'")]
    private static partial void AuthOn(ILogger logger, int keys, int adminKeys, string tenants);
}
