using System.Globalization;
using System.Net;

namespace KvTier.Server;

/// <summary>Parses the <c>host:port</c> addresses used by the settings (IPv6 hosts in brackets).</summary>
internal static class HostPort
{
    /// <summary>Splits <c>host:port</c>; the port may be 0 only when <paramref name="allowPortZero"/>.</summary>
    public static bool TrySplit(string text, bool allowPortZero, out string host, out int port)
    {
        host = "";
        port = 0;
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1)
        {
            return false;
        }

        host = text[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }
        else if (host.Contains(':', StringComparison.Ordinal))
        {
            // A bare IPv6 address is ambiguous with its port: require brackets.
            return false;
        }

        return host.Length > 0 && !host.Contains('/', StringComparison.Ordinal)
            && int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port)
            && port <= 65535 && (port > 0 || allowPortZero);
    }

    /// <summary>
    /// Resolves a listen address without DNS: Kestrel binds IP addresses, so only an IP literal, <c>localhost</c>
    /// (the IPv4 loopback, so that port 0 works) or <c>*</c> (every interface) is accepted.
    /// </summary>
    public static bool TryParseListen(string text, out IPEndPoint endpoint)
    {
        endpoint = new IPEndPoint(IPAddress.Loopback, 0);
        if (!TrySplit(text, allowPortZero: true, out var host, out var port))
        {
            return false;
        }

        IPAddress? address = host switch
        {
            "*" => IPAddress.Any,
            _ when string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) => IPAddress.Loopback,
            _ => IPAddress.TryParse(host, out var ip) ? ip : null,
        };
        if (address is null)
        {
            return false;
        }

        endpoint = new IPEndPoint(address, port);
        return true;
    }
}
