using System.Text.Json;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace KvTier.Deploy.Tests;

/// <summary>
/// deploy/helm/kvtier, checked without helm: Chart.yaml and values.yaml parse, every value a template uses is defined,
/// template actions and blocks are balanced, the templates render the same kinds as deploy/k8s, and the defaults agree
/// with the plain manifests. (The Makefile also runs `helm lint` and `helm template` where helm is installed.)
/// </summary>
public sealed partial class HelmChartTests
{
    private static readonly string s_chart = Repo.Path("deploy", "helm", "kvtier");
    private static readonly YamlMappingNode s_values = Yaml.LoadOne(Path.Combine(s_chart, "values.yaml"));

    private static readonly IReadOnlyDictionary<string, string> s_templates =
        Directory.GetFiles(Path.Combine(s_chart, "templates")).ToDictionary(f => Path.GetFileName(f), File.ReadAllText);

    [Fact]
    public void Chart_IsApiV2WithNameVersionAndAppVersion()
    {
        var chart = Yaml.LoadOne(Path.Combine(s_chart, "Chart.yaml"));

        Assert.Equal("v2", chart.Str("apiVersion"));
        Assert.Equal("kvtier", chart.Str("name"));
        Assert.Matches(@"^\d+\.\d+\.\d+$", chart.Str("version"));
        Assert.False(string.IsNullOrEmpty(chart.Str("appVersion")));
    }

    [Fact]
    public void Templates_ReferenceOnlyValuesThatValuesYamlDefines()
    {
        var references = s_templates.SelectMany(t => ValuesReference().Matches(t.Value).Select(m => (t.Key, Path: m.Groups[1].Value))).ToList();

        Assert.NotEmpty(references);
        foreach (var (file, path) in references)
        {
            Assert.True(s_values.Find(path.Split('.')) is not null, $"{file} uses .Values.{path}, which values.yaml does not define");
        }
    }

    [Fact]
    public void Values_EveryTopLevelValueIsUsedByATemplate()
    {
        var all = string.Join('\n', s_templates.Values);

        Assert.All(s_values.Entries().Keys, key => Assert.Contains($".Values.{key}", all, StringComparison.Ordinal));
    }

    [Fact]
    public void Templates_HaveBalancedActionsAndBlocks()
    {
        foreach (var (file, text) in s_templates)
        {
            Assert.True(Count(text, "{{") == Count(text, "}}"), $"{file}: unbalanced {{{{ }}}}");
            var opened = BlockStart().Matches(text).Count;
            var closed = BlockEnd().Matches(text).Count;
            Assert.True(opened == closed, $"{file}: {opened} if/range/with/define blocks but {closed} ends");
        }
    }

    [Fact]
    public void Templates_RenderEveryKindTheManifestsHave()
    {
        var templateKinds = s_templates.Values.SelectMany(t => KindLine().Matches(t).Select(m => m.Groups[1].Value)).ToHashSet();

        Assert.All(Manifests.Objects.Select(d => d.Str("kind")).Distinct(), kind => Assert.Contains(kind, templateKinds));
    }

    [Fact]
    public void Etcd_IsRenderedOnlyWhenEnabledAndOtherwiseAnExternalUrlIsUsed()
    {
        var etcd = s_templates["etcd.yaml"];
        var helpers = s_templates["_helpers.tpl"];

        Assert.StartsWith("{{- if .Values.etcd.enabled }}", etcd, StringComparison.Ordinal);
        Assert.EndsWith("{{- end }}", etcd.TrimEnd(), StringComparison.Ordinal);
        Assert.Contains(".Values.etcd.external", helpers, StringComparison.Ordinal);
        Assert.Contains("include \"kvtier.etcdUrl\"", s_templates["configmap.yaml"], StringComparison.Ordinal);
        Assert.Equal("true", s_values.Str("etcd", "enabled"));
        Assert.Equal("", s_values.Str("etcd", "external"));
    }

    [Fact]
    public void DaemonSetTemplate_HasTheProbesPortsShmVolumeAndComputedMemory()
    {
        var daemonSet = s_templates["daemonset.yaml"];

        foreach (var expected in new[]
                 {
                     "kind: DaemonSet", "path: /healthz", "path: /readyz", "port: metrics", "containerPort: {{ .Values.ports.grpc }}",
                     "containerPort: {{ .Values.ports.data }}", "containerPort: {{ .Values.ports.metrics }}", "path: {{ .Values.shm.hostPath }}",
                     "mountPath: {{ .Values.shm.hostPath }}", "memory: {{ include \"kvtier.podMemory\" . }}", "- --memory", "- --staging",
                     "KVTIER__CLUSTERSECRET", "nodeSelector:", "readOnlyRootFilesystem: true",
                 })
        {
            Assert.Contains(expected, daemonSet, StringComparison.Ordinal);
        }

        Assert.Contains("add (int .Values.store.memoryMiB) (int .Values.store.stagingMiB) (int .Values.store.overheadMiB)", s_templates["_helpers.tpl"], StringComparison.Ordinal);
    }

    [Fact]
    public void Values_DefaultsAgreeWithThePlainManifests()
    {
        var flags = Manifests.SidecarFlags();
        var memoryMiB = s_values.Int("store", "memoryMiB") + s_values.Int("store", "stagingMiB") + s_values.Int("store", "overheadMiB");

        Assert.Equal(Quantity.Bytes(flags["--memory"]), Quantity.Bytes(s_values.Str("store", "memoryMiB") + "MiB"));
        Assert.Equal(Quantity.Bytes(flags["--staging"]), Quantity.Bytes(s_values.Str("store", "stagingMiB") + "MiB"));
        Assert.Equal(Quantity.Bytes(Manifests.Sidecar.Str("resources", "limits", "memory")), memoryMiB * (1L << 20));
        foreach (var name in new[] { "grpc", "data", "metrics" })
        {
            Assert.Equal(Manifests.ContainerPort(name), s_values.Int("ports", name));
        }

        Assert.Equal(ShmPath(), s_values.Str("shm", "hostPath"));
        Assert.Equal(3, s_values.Int("etcd", "replicas"));
        Assert.Equal("true", s_values.Str("nodeSelector", "nvidia.com/gpu.present"));
    }

    [Fact]
    public void Values_ConfigMatchesTheManifestsConfigMap()
    {
        using var json = JsonDocument.Parse(Manifests.Get("ConfigMap", "kvtier-config").Str("data", "appsettings.json"));
        var section = json.RootElement.GetProperty("KvTier");

        Assert.Equal(section.GetProperty("HashSeed").GetString(), s_values.Str("config", "hashSeed"));
        Assert.Equal(section.GetProperty("BlockTokens").GetInt32(), s_values.Int("config", "blockTokens"));
        Assert.Equal(section.GetProperty("Cluster").GetString(), s_values.Str("config", "cluster"));
        Assert.Equal(section.GetProperty("Replicas").GetInt32(), s_values.Int("config", "replicas"));
        Assert.Equal(section.GetProperty("WriteAck").GetString(), s_values.Str("config", "writeAck"));
        Assert.Equal(section.GetProperty("Accelerator").GetString(), s_values.Str("config", "accelerator"));
        Assert.Equal(section.GetProperty("MaxBlock").GetString(), s_values.Str("store", "maxBlock"));
    }

    private static string ShmPath() => Manifests.DaemonSet.Seq("spec", "template", "spec", "volumes").Named("shm").Str("hostPath", "path");

    private static int Count(string text, string what) => (text.Length - text.Replace(what, "", StringComparison.Ordinal).Length) / what.Length;

    [GeneratedRegex(@"\.Values\.([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)")]
    private static partial Regex ValuesReference();

    [GeneratedRegex(@"\{\{-?\s*(?:if|range|with|define|block)\b")]
    private static partial Regex BlockStart();

    [GeneratedRegex(@"\{\{-?\s*end\s*-?\}\}")]
    private static partial Regex BlockEnd();

    [GeneratedRegex(@"^kind:\s*(\w+)\s*$", RegexOptions.Multiline)]
    private static partial Regex KindLine();
}
