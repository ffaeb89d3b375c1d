using System.Collections;
using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace KvTier.Server;

/// <summary>
/// Builds <see cref="ServerOptions"/> from, in rising precedence: <c>appsettings.json</c> in the base directory (optional),
/// the <c>--config FILE</c> (JSON, section <c>KvTier</c>), <c>KVTIER__NAME</c> environment variables, and flags.
/// Shared by <c>kvtier serve</c>, <c>kvtier config print</c> and the tests. Unknown keys are errors, not ignored:
/// a misspelled setting would otherwise silently fall back to its default.
/// </summary>
public static class ServerOptionsBinder
{
    /// <summary>Prefix of the environment variables read (<c>KVTIER__MEMORY=2GiB</c>).</summary>
    public const string EnvironmentPrefix = "KVTIER__";

    /// <summary>The optional settings file read from the base directory.</summary>
    public const string AppSettingsFile = "appsettings.json";

    /// <summary>Binds the options; throws <see cref="ArgumentException"/> naming a bad value (it does not call Validate).</summary>
    /// <param name="configFile">A JSON file that must exist, or null.</param>
    /// <param name="flags">Values by setting name (<see cref="ServerSetting.Name"/>); null values are not given.</param>
    /// <param name="environment">Environment variables; null reads the process environment.</param>
    /// <param name="baseDirectory">Where to look for appsettings.json; null uses the current directory.</param>
    public static ServerOptions Bind(
        string? configFile = null,
        IReadOnlyDictionary<string, string?>? flags = null,
        IEnumerable<KeyValuePair<string, string?>>? environment = null,
        string? baseDirectory = null) =>
        Bind(BuildConfiguration(configFile, flags, environment, baseDirectory));

    /// <summary>The layered configuration (file, environment, flags) before binding.</summary>
    public static IConfigurationRoot BuildConfiguration(
        string? configFile = null,
        IReadOnlyDictionary<string, string?>? flags = null,
        IEnumerable<KeyValuePair<string, string?>>? environment = null,
        string? baseDirectory = null)
    {
        var builder = new ConfigurationBuilder();
        var appSettings = Path.Combine(baseDirectory ?? Directory.GetCurrentDirectory(), AppSettingsFile);
        if (File.Exists(appSettings))
        {
            builder.AddJsonFile(Path.GetFullPath(appSettings), optional: true, reloadOnChange: false);
        }

        if (configFile is not null)
        {
            if (!File.Exists(configFile))
            {
                throw new ArgumentException($"--config: '{configFile}' does not exist: pass the path of a JSON file with a \"{ServerOptions.SectionName}\" section.");
            }

            builder.AddJsonFile(Path.GetFullPath(configFile), optional: false, reloadOnChange: false);
        }

        builder.AddInMemoryCollection(FromEnvironment(environment ?? ProcessEnvironment()));
        if (flags is not null)
        {
            builder.AddInMemoryCollection(flags.Where(f => f.Value is not null)
                .Select(f => KeyValuePair.Create(ServerOptions.SectionName + ":" + f.Key, f.Value)));
        }

        try
        {
            return builder.Build();
        }
        catch (InvalidDataException e)
        {
            throw new ArgumentException($"{e.Message.TrimEnd('.')}: {e.InnerException?.Message ?? "unreadable"} Fix the JSON and retry.");
        }
    }

    /// <summary>Binds the <c>KvTier</c> section of <paramref name="configuration"/> over the defaults.</summary>
    public static ServerOptions Bind(IConfiguration configuration)
    {
        foreach (var root in configuration.GetChildren())
        {
            var section = ServerSetting.Sections.FirstOrDefault(s => string.Equals(s, root.Key, StringComparison.OrdinalIgnoreCase));
            var misplaced = ServerSetting.Find(root.Key)?.Path ?? (section is null ? null : ServerOptions.SectionName + ":" + section);
            if (misplaced is not null)
            {
                throw new ArgumentException($"'{root.Key}' is at the top level of the configuration: put it under \"{ServerOptions.SectionName}\" (as {misplaced}).");
            }
        }

        var options = new ServerOptions();
        foreach (var child in configuration.GetSection(ServerOptions.SectionName).GetChildren())
        {
            if (ServerSetting.Sections.FirstOrDefault(s => string.Equals(s, child.Key, StringComparison.OrdinalIgnoreCase)) is { } section)
            {
                BindSection(options, section, child);
                continue;
            }

            var setting = ServerSetting.Find(child.Key) is { Section: null } found ? found : throw new ArgumentException(
                $"{ServerOptions.SectionName}:{child.Key} is not a setting: use one of {string.Join(", ", ServerSetting.All.Where(s => s.Section is null).Select(s => s.Name).Concat(ServerSetting.Sections))}.");
            Apply(options, setting, child);
        }

        return options;
    }

    // A sub-section (Auth, Tls): its keys are settings named Section:Key.
    private static void BindSection(ServerOptions options, string section, IConfigurationSection child)
    {
        var settings = ServerSetting.All.Where(s => s.Section == section).ToList();
        if (child.Value is not null && !child.GetChildren().Any())
        {
            throw new ArgumentException(
                $"{ServerOptions.SectionName}:{section} is a section, not a value: give its settings ({string.Join(", ", settings.Select(s => s.Key))}) as an object in the file, or as {EnvironmentPrefix}{section.ToUpperInvariant()}__<SETTING> variables.");
        }

        foreach (var inner in child.GetChildren())
        {
            var setting = settings.FirstOrDefault(s => string.Equals(s.Key, inner.Key, StringComparison.OrdinalIgnoreCase)) ?? throw new ArgumentException(
                $"{ServerOptions.SectionName}:{section}:{inner.Key} is not a setting: use one of {string.Join(", ", settings.Select(s => s.Key))}.");
            Apply(options, setting, inner);
        }
    }

    private static void Apply(ServerOptions o, ServerSetting setting, IConfigurationSection child)
    {
        if (setting.Flag is null)
        {
            ApplyMap(o, setting, child);
            return;
        }

        if (child.Value is null && child.GetChildren().Any() && setting.Name != nameof(ServerOptions.Peers))
        {
            throw new ArgumentException($"{setting.Display} takes one value, not an object or a list: write it as a string.");
        }

        var value = child.Value?.Trim();
        var optional = string.IsNullOrEmpty(value) ? null : value;
        switch (setting.Name)
        {
            case nameof(ServerOptions.Listen): o.Listen = value ?? ""; break;
            case nameof(ServerOptions.NodeId): o.NodeId = value ?? ""; break;
            case nameof(ServerOptions.HashSeed): o.HashSeed = child.Value ?? ""; break;
            case nameof(ServerOptions.BlockTokens): o.BlockTokens = Int(setting, value); break;
            case nameof(ServerOptions.Memory): o.Memory = value ?? ""; break;
            case nameof(ServerOptions.MaxBlock): o.MaxBlock = value ?? ""; break;
            case nameof(ServerOptions.SsdDir): o.SsdDir = optional; break;
            case nameof(ServerOptions.SsdSize): o.SsdSize = optional; break;
            case nameof(ServerOptions.Cluster): o.Cluster = value ?? ""; break;
            case nameof(ServerOptions.Peers): o.Peers = List(child); break;
            case nameof(ServerOptions.Etcd): o.Etcd = optional; break;
            case nameof(ServerOptions.Replicas): o.Replicas = Int(setting, value); break;
            case nameof(ServerOptions.WriteAck): o.WriteAck = value ?? ""; break;
            case nameof(ServerOptions.Retention): o.Retention = value ?? ""; break;
            case nameof(ServerOptions.DataListen): o.DataListen = optional; break;
            case nameof(ServerOptions.ClusterSecret): o.ClusterSecret = optional; break;
            case nameof(ServerOptions.Accelerator): o.Accelerator = value ?? ""; break;
            case nameof(ServerOptions.Staging): o.Staging = value ?? ""; break;
            case nameof(ServerOptions.ScrubRate): o.ScrubRate = value ?? ""; break;
            case nameof(ServerOptions.Metrics): o.Metrics = optional; break;
            case "Tls:CertificateFile": o.Tls.CertificateFile = optional; break;
            case "Tls:KeyFile": o.Tls.KeyFile = optional; break;
            case "Tls:CaFile": o.Tls.CaFile = optional; break;
            case "Auth:DefaultQuota": o.Auth.DefaultQuota = optional; break;
            default: throw new InvalidOperationException($"setting {setting.Name} has no binding");
        }
    }

    // Maps are objects in a file ({"<key>": "<tenant>"}) or one variable per entry (KVTIER__AUTH__APIKEYS__<key>=<tenant>).
    private static void ApplyMap(ServerOptions o, ServerSetting setting, IConfigurationSection child)
    {
        if (child.Value is not null && !child.GetChildren().Any())
        {
            throw new ArgumentException(
                $"{setting.Path} is an object, not a value: write {{\"<name>\": \"<value>\", ...}} in the file, or one {EnvironmentPrefix}{setting.Name.Replace(":", "__", StringComparison.Ordinal).ToUpperInvariant()}__<name>=<value> variable per entry.");
        }

        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in child.GetChildren())
        {
            // An entry whose name holds ':' arrives as a nested section: configuration keys cannot contain ':'.
            map[entry.Key] = entry.Value?.Trim() ?? throw new ArgumentException(setting.IsSecret
                ? $"{setting.Path}: an entry is not a string (keys cannot contain ':', which configuration reads as a nesting): give each key a tenant name as a string."
                : $"{setting.Path}:{entry.Key} is not a string: give it a value such as 2GiB.");
        }

        switch (setting.Name)
        {
            case "Auth:ApiKeys": o.Auth.ApiKeys = map; break;
            case "Auth:AdminKeys": o.Auth.AdminKeys = map; break;
            case "Auth:Quotas": o.Auth.Quotas = map; break;
            default: throw new InvalidOperationException($"setting {setting.Name} has no binding");
        }
    }

    private static int Int(ServerSetting setting, string? value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw new ArgumentException($"{setting.Display}: '{value}' is not a whole number: give an integer such as 16.");

    // A list is a JSON array in a file, or comma-separated in a variable or flag.
    private static string[] List(IConfigurationSection child) =>
        child.Value is { } text
            ? text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            : [.. child.GetChildren().Select(c => c.Value?.Trim()).OfType<string>().Where(v => v.Length > 0)];

    private static IEnumerable<KeyValuePair<string, string?>> FromEnvironment(IEnumerable<KeyValuePair<string, string?>> environment) =>
        environment
            .Where(v => v.Key.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase) && v.Key.Length > EnvironmentPrefix.Length)
            .Select(v => KeyValuePair.Create(
                ServerOptions.SectionName + ":" + v.Key[EnvironmentPrefix.Length..].Replace("__", ":", StringComparison.Ordinal), v.Value));

    private static IEnumerable<KeyValuePair<string, string?>> ProcessEnvironment() =>
        Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
            .Select(e => KeyValuePair.Create((string)e.Key, (string?)e.Value));
}
