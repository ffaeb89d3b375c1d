using System.Text;
using System.Text.Json;

namespace KvTier.Server;

/// <summary>
/// Writes the effective options as JSON in the shape of a config file (<c>{"KvTier": {...}}</c>), so that
/// <c>kvtier config print &gt; my.json</c> can be fed back with <c>--config my.json</c>. Secrets are redacted.
/// </summary>
public static class ServerOptionsJson
{
    /// <summary>What a redacted secret prints as.</summary>
    public const string Redacted = "***";

    /// <summary>The options as indented JSON.</summary>
    public static string Write(ServerOptions options)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteStartObject(ServerOptions.SectionName);
            foreach (var setting in ServerSetting.All.Where(s => s.Section is null))
            {
                WriteSetting(w, setting, options);
            }

            foreach (var section in ServerSetting.Sections)
            {
                w.WriteStartObject(section);
                foreach (var setting in ServerSetting.All.Where(s => s.Section == section))
                {
                    WriteSetting(w, setting, options);
                }

                w.WriteEndObject();
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteSetting(Utf8JsonWriter w, ServerSetting setting, ServerOptions o)
    {
        switch (setting.Name)
        {
            case nameof(ServerOptions.BlockTokens): w.WriteNumber(setting.Name, o.BlockTokens); return;
            case nameof(ServerOptions.Replicas): w.WriteNumber(setting.Name, o.Replicas); return;
            case nameof(ServerOptions.Peers):
                w.WriteStartArray(setting.Name);
                foreach (var peer in o.Peers)
                {
                    w.WriteStringValue(peer);
                }

                w.WriteEndArray();
                return;
            case "Auth:ApiKeys": WriteKeys(w, setting.Key, o.Auth.ApiKeys); return;
            case "Auth:AdminKeys": WriteKeys(w, setting.Key, o.Auth.AdminKeys); return;
            case "Auth:Quotas":
                w.WriteStartObject(setting.Key);
                foreach (var (tenant, quota) in o.Auth.Quotas.OrderBy(q => q.Key, StringComparer.Ordinal))
                {
                    w.WriteString(tenant, quota);
                }

                w.WriteEndObject();
                return;
        }

        var value = setting.Name switch
        {
            nameof(ServerOptions.Listen) => o.Listen,
            nameof(ServerOptions.NodeId) => o.NodeId,
            nameof(ServerOptions.HashSeed) => o.HashSeed,
            nameof(ServerOptions.Memory) => o.Memory,
            nameof(ServerOptions.MaxBlock) => o.MaxBlock,
            nameof(ServerOptions.SsdDir) => o.SsdDir,
            nameof(ServerOptions.SsdSize) => o.SsdSize,
            nameof(ServerOptions.Cluster) => o.Cluster,
            nameof(ServerOptions.Etcd) => RedactUserInfo(o.Etcd),
            nameof(ServerOptions.WriteAck) => o.WriteAck,
            nameof(ServerOptions.Retention) => o.Retention,
            nameof(ServerOptions.DataListen) => o.DataListen,
            nameof(ServerOptions.ClusterSecret) => o.ClusterSecret,
            nameof(ServerOptions.Accelerator) => o.Accelerator,
            nameof(ServerOptions.Staging) => o.Staging,
            nameof(ServerOptions.ScrubRate) => o.ScrubRate,
            nameof(ServerOptions.Metrics) => o.Metrics,
            "Tls:CertificateFile" => o.Tls.CertificateFile,
            "Tls:KeyFile" => o.Tls.KeyFile, // the path, never the key
            "Tls:CaFile" => o.Tls.CaFile,
            "Auth:DefaultQuota" => o.Auth.DefaultQuota,
            _ => throw new InvalidOperationException($"setting {setting.Name} has no JSON form"),
        };
        if (value is null)
        {
            w.WriteNull(setting.Key);
        }
        else
        {
            w.WriteString(setting.Key, setting.IsSecret ? Redacted : value);
        }
    }

    // Keys are secrets and the JSON names of their entries: each prints as ***1, ***2, ... with its tenant in clear.
    private static void WriteKeys(Utf8JsonWriter w, string name, IReadOnlyDictionary<string, string> keys)
    {
        w.WriteStartObject(name);
        var n = 0;
        foreach (var tenant in keys.Values.Order(StringComparer.Ordinal))
        {
            w.WriteString(Redacted + (++n).ToString(System.Globalization.CultureInfo.InvariantCulture), tenant);
        }

        w.WriteEndObject();
    }

    // An etcd URL may carry credentials (http://user:password@host:2379): keep the host, hide the rest.
    internal static string? RedactUserInfo(string? url)
    {
        var scheme = url?.IndexOf("://", StringComparison.Ordinal) ?? -1;
        if (url is null || scheme < 0)
        {
            return url;
        }

        var start = scheme + 3;
        var end = url.IndexOfAny(['/', '?', '#'], start);
        var at = url.LastIndexOf('@', (end < 0 ? url.Length : end) - 1);
        return at >= start ? string.Concat(url.AsSpan(0, start), Redacted, url.AsSpan(at)) : url;
    }
}
