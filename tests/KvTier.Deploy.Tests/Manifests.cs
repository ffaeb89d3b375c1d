using YamlDotNet.RepresentationModel;

namespace KvTier.Deploy.Tests;

/// <summary>Every document of every YAML file under deploy/k8s, and lookups by kind and name.</summary>
internal static class Manifests
{
    public const string Namespace = "kvtier";

    private static readonly Lazy<IReadOnlyList<(string File, YamlMappingNode Doc)>> s_all = new(() =>
        [.. Directory.GetFiles(Repo.Path("deploy", "k8s"), "*.yaml").Order(StringComparer.Ordinal)
            .SelectMany(f => Yaml.LoadAll(f).Select(d => (System.IO.Path.GetFileName(f), d)))]);

    public static IReadOnlyList<(string File, YamlMappingNode Doc)> All => s_all.Value;

    /// <summary>The Kubernetes objects (everything but the kustomization).</summary>
    public static IEnumerable<YamlMappingNode> Objects => All.Select(a => a.Doc).Where(d => d.StrOrNull("kind") != "Kustomization");

    public static YamlMappingNode Get(string kind, string name) =>
        Objects.SingleOrDefault(d => d.StrOrNull("kind") == kind && d.StrOrNull("metadata", "name") == name)
        ?? throw new Xunit.Sdk.XunitException($"no {kind} named {name} in deploy/k8s");

    public static YamlMappingNode DaemonSet => Get("DaemonSet", "kvtier");

    public static YamlMappingNode Sidecar => DaemonSet.Seq("spec", "template", "spec", "containers").Named("kvtier");

    /// <summary>The sidecar's flags as name → value (every flag of kvtier serve takes a value).</summary>
    public static IReadOnlyDictionary<string, string> SidecarFlags() => Flags(Sidecar);

    /// <summary>The flags of a kvtier container's args as name → value.</summary>
    public static IReadOnlyDictionary<string, string> Flags(YamlMappingNode container)
    {
        var args = container.Seq("args").Strings();
        var flags = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i += 2)
        {
            Assert.StartsWith("--", args[i], StringComparison.Ordinal);
            Assert.True(i + 1 < args.Count, $"{args[i]} has no value");
            flags.Add(args[i], args[i + 1]);
        }

        return flags;
    }

    public static int ContainerPort(string name) => Sidecar.Seq("ports").Named(name).Int("containerPort");
}
