using KvTier.Server;
using YamlDotNet.RepresentationModel;

namespace KvTier.Deploy.Tests;

/// <summary>
/// Binds a deployment's settings the way <c>kvtier serve</c> does (the working directory's appsettings.json, the
/// config file, then KVTIER__* variables, then flags) and validates them, with Kubernetes' $(VAR) references and
/// secret values replaced by sample values, and files the pod mounts (TLS certificates) found in local directories.
/// The memory budget is checked against what the sidecar's pod lets it use (<see cref="PodMemory"/>), not this machine.
/// </summary>
internal static class Settings
{
    private static readonly Dictionary<string, string> s_samples = new(StringComparer.Ordinal)
    {
        ["$(POD_IP)"] = "10.1.2.3",
        ["$(NODE_NAME)"] = "gpu-node-1",
    };

    /// <param name="mounts">Directories of the pod (e.g. /etc/kvtier/tls) → local directories holding their files.</param>
    public static ServerOptions Bind(IReadOnlyDictionary<string, string> flags, YamlSequenceNode env, string configJson, string? appSettingsJson = null,
        IReadOnlyDictionary<string, string>? mounts = null)
    {
        var dir = Directory.CreateTempSubdirectory("kvtier-deploy-");
        try
        {
            var configFile = System.IO.Path.Combine(dir.FullName, "config.json");
            File.WriteAllText(configFile, configJson);
            if (appSettingsJson is not null)
            {
                File.WriteAllText(System.IO.Path.Combine(dir.FullName, ServerOptionsBinder.AppSettingsFile), appSettingsJson);
            }

            var settings = new Dictionary<string, string?>(StringComparer.Ordinal);
            foreach (var (flag, value) in flags.Where(f => f.Key != "--config"))
            {
                var setting = ServerSetting.All.SingleOrDefault(s => s.Flag == flag)
                    ?? throw new Xunit.Sdk.XunitException($"{flag} is not a kvtier serve flag");
                settings[setting.Name] = Mounted(Substitute(value), mounts);
            }

            var variables = env.Maps().Select(v => KeyValuePair.Create(v.Str("name"),
                v.Find("valueFrom") is null ? Substitute(v.StrOrNull("value") ?? "") : (string?)"secret-from-kubernetes"));
            var options = ServerOptionsBinder.Bind(configFile, settings, variables, baseDirectory: dir.FullName);
            ServerOptionsValidator.Validate(options, PodMemory.ForGc(PodMemory.SidecarLimit(), PodMemory.ShippedHeapLimitPercent()));
            return options;
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static string Mounted(string value, IReadOnlyDictionary<string, string>? mounts) =>
        mounts?.Where(m => value.StartsWith(m.Key.TrimEnd('/') + "/", StringComparison.Ordinal))
            .Select(m => System.IO.Path.Combine(m.Value, value[(m.Key.TrimEnd('/').Length + 1)..])).FirstOrDefault() ?? value;

    private static string Substitute(string value) =>
        s_samples.Aggregate(value, (v, s) => v.Replace(s.Key, s.Value, StringComparison.Ordinal));
}
