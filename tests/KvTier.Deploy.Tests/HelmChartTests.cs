using System.Text.Json;
using System.Text.RegularExpressions;
using KvTier.Server;
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

    [Fact]
    public void Values_AuthAndTlsDefaultsAreOffAsInThePlainManifests()
    {
        foreach (var map in new[] { "apiKeys", "adminKeys", "quotas" })
        {
            Assert.Empty(Assert.IsType<YamlMappingNode>(s_values.Find("auth", map)).Children);
        }

        Assert.Equal("", s_values.Str("auth", "defaultQuota"));
        Assert.Equal("false", s_values.Str("tls", "enabled"));
        Assert.Equal("", s_values.Str("tls", "secretName"));
        Assert.Equal("", s_values.Str("tls", "caSecretName"));
        Assert.DoesNotContain(Manifests.SidecarFlags().Keys, f => f.StartsWith("--tls-", StringComparison.Ordinal));
        var protocols = AppProtocol().Match(s_templates["service.yaml"]);
        Assert.True(protocols.Success, "service.yaml: the grpc port's appProtocol does not depend on tls.enabled");
        Assert.Equal(Manifests.Get("Service", "kvtier").Seq("spec", "ports").Named("grpc").Str("appProtocol"), protocols.Groups["plain"].Value);
        Assert.Equal(TlsComponent.Service().Seq("spec", "ports").Named("grpc").Str("appProtocol"), protocols.Groups["tls"].Value);
    }

    [Fact]
    public void SecretTemplate_RendersEveryAuthSettingIntoAppSettingsFromItsValue()
    {
        var secret = s_templates["secret.yaml"];
        var rendered = AuthSetting().Matches(secret).ToDictionary(m => m.Groups["setting"].Value, m => m.Groups["value"].Value, StringComparer.Ordinal);

        Assert.Equal(ServerSetting.All.Where(s => s.Section == "Auth").Select(s => s.Key).Order(StringComparer.Ordinal), rendered.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("apiKeys", rendered["ApiKeys"]);
        Assert.Equal("adminKeys", rendered["AdminKeys"]);
        Assert.Equal("quotas", rendered["Quotas"]);
        Assert.Equal("defaultQuota", rendered["DefaultQuota"]);
        Assert.All(rendered.Values, v => Assert.NotNull(s_values.Find("auth", v)));
        Assert.Contains("appsettings.json: {{ dict \"KvTier\" (dict \"Auth\" $auth) | toJson | quote }}", secret, StringComparison.Ordinal);
        Assert.Equal(["not .Values.auth.existingSecret"], Conditions(secret, "appsettings.json: {{ dict \"KvTier\" (dict \"Auth\" $auth) | toJson | quote }}"));
    }

    [Fact]
    public void DaemonSetTemplate_WithTlsPassesTheFlagsAndMountsOfTheTlsComponent()
    {
        var daemonSet = s_templates["daemonset.yaml"];
        var componentSidecar = TlsComponent.Sidecar(TlsComponent.DaemonSet());
        var component = Manifests.Flags(componentSidecar).Where(f => f.Key.StartsWith("--tls-", StringComparison.Ordinal)).ToDictionary();
        var chart = TlsFlag().Matches(daemonSet).ToDictionary(m => m.Groups["flag"].Value, m => m.Groups["file"].Value, StringComparer.Ordinal);

        Assert.Equal(component.OrderBy(f => f.Key, StringComparer.Ordinal), chart.OrderBy(f => f.Key, StringComparer.Ordinal));
        foreach (var (flag, file) in chart)
        {
            string[] expected = flag == "--tls-ca" ? [".Values.tls.enabled", ".Values.tls.caSecretName"] : [".Values.tls.enabled"];
            Assert.Equal(expected, Conditions(daemonSet, "- " + flag));
            var directory = Path.GetDirectoryName(file)!;
            var name = componentSidecar.Seq("volumeMounts").Maps().Single(m => m.Str("mountPath") == directory).Str("name");
            Assert.Contains($"- name: {name}\n              mountPath: {directory}\n              readOnly: true", daemonSet, StringComparison.Ordinal);
            Assert.Equal(expected, Conditions(daemonSet, "mountPath: " + directory));
            Assert.Equal(expected, Conditions(daemonSet, "- name: " + name));
        }

        Assert.Contains("secretName: {{ required \"tls.enabled needs tls.secretName", daemonSet, StringComparison.Ordinal);
        Assert.Contains("\" .Values.tls.secretName }}", daemonSet, StringComparison.Ordinal);
        Assert.Contains("secretName: {{ .Values.tls.caSecretName }}\n            items:\n              - key: ca.crt\n                path: ca.crt", daemonSet, StringComparison.Ordinal);
    }

    [Fact]
    public void ConditionalBlocks_AreFoundForAKnownLine()
    {
        Assert.Equal([".Values.store.ssdHostPath"], Conditions(s_templates["daemonset.yaml"], "- name: ssd"));
        Assert.Empty(Conditions(s_templates["daemonset.yaml"], "- name: tmp"));
    }

    /// <summary>The if/with/range conditions around the first line of <paramref name="template"/> that is <paramref name="line"/> (trimmed).</summary>
    private static IReadOnlyList<string> Conditions(string template, string line)
    {
        var stack = new List<string>();
        foreach (var text in template.Split('\n').Select(l => l.Trim()))
        {
            if (BlockLine().Match(text) is { Success: true } block)
            {
                stack.Add(block.Groups[1].Value);
            }
            else if (EndLine().IsMatch(text))
            {
                stack.RemoveAt(stack.Count - 1);
            }
            else if (text == line)
            {
                return [.. stack];
            }
        }

        throw new Xunit.Sdk.XunitException($"no line '{line}' in the template");
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

    // dict "ApiKeys" .Values.auth.apiKeys, or a with .Values.auth.X block that sets "Name" in $auth.
    [GeneratedRegex(@"dict ""(?<setting>ApiKeys)"" \.Values\.auth\.(?<value>\w+)|with \.Values\.auth\.(?<value>\w+) \}\}\s*\{\{-? \$_ := set \$auth ""(?<setting>\w+)""")]
    private static partial Regex AuthSetting();

    [GeneratedRegex(@"^\s*- (?<flag>--tls-[a-z]+)\s*\n\s*- (?<file>\S+)\s*$", RegexOptions.Multiline)]
    private static partial Regex TlsFlag();

    [GeneratedRegex(@"appProtocol: \{\{ if \.Values\.tls\.enabled \}\}(?<tls>\S+?)\{\{ else \}\}(?<plain>\S+?)\{\{ end \}\}")]
    private static partial Regex AppProtocol();

    [GeneratedRegex(@"^\{\{-?\s*(?:if|with|range)\s+(.+?)\s*-?\}\}$")]
    private static partial Regex BlockLine();

    [GeneratedRegex(@"^\{\{-?\s*end\s*-?\}\}$")]
    private static partial Regex EndLine();
}
