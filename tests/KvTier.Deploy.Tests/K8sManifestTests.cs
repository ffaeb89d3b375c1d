using System.Text.Json;
using KvTier.Server;
using YamlDotNet.RepresentationModel;

namespace KvTier.Deploy.Tests;

/// <summary>deploy/k8s: the objects exist, agree with each other, and pass settings the sidecar accepts.</summary>
public sealed class K8sManifestTests
{
    [Fact]
    public void EveryDocument_HasApiVersionKindAndName()
    {
        Assert.NotEmpty(Manifests.All);
        foreach (var (file, doc) in Manifests.All)
        {
            Assert.False(string.IsNullOrEmpty(doc.StrOrNull("apiVersion")), $"{file}: a document without apiVersion");
            var kind = doc.StrOrNull("kind");
            Assert.False(string.IsNullOrEmpty(kind), $"{file}: a document without kind");
            if (kind != "Kustomization")
            {
                Assert.False(string.IsNullOrEmpty(doc.StrOrNull("metadata", "name")), $"{file}: a {kind} without a name");
            }
        }
    }

    [Fact]
    public void EveryNamespacedObject_IsInTheKvtierNamespace()
    {
        Assert.Equal(Manifests.Namespace, Manifests.Get("Namespace", Manifests.Namespace).Str("metadata", "name"));
        foreach (var doc in Manifests.Objects.Where(d => d.Str("kind") != "Namespace"))
        {
            Assert.True(doc.StrOrNull("metadata", "namespace") == Manifests.Namespace,
                $"{doc.Str("kind")} {doc.Str("metadata", "name")} is not in namespace {Manifests.Namespace}");
        }
    }

    [Fact]
    public void Kustomization_ListsEveryManifestFile()
    {
        var kustomization = Yaml.LoadOne(Repo.Path("deploy", "k8s", "kustomization.yaml"));
        var files = Manifests.All.Where(a => a.Doc.StrOrNull("kind") != "Kustomization").Select(a => a.File).Distinct().Order(StringComparer.Ordinal);

        Assert.Equal(files, kustomization.Seq("resources").Strings().Order(StringComparer.Ordinal));
    }

    [Fact]
    public void DaemonSet_RunsOnGpuNodesOnlyAndToleratesTheirTaint()
    {
        var pod = Manifests.DaemonSet.Map("spec", "template", "spec");

        Assert.Equal("true", pod.Str("nodeSelector", "nvidia.com/gpu.present"));
        Assert.Contains(pod.Seq("tolerations").Maps(), t => t.StrOrNull("key") == "nvidia.com/gpu" && t.StrOrNull("operator") == "Exists");
        Assert.Null(Manifests.Sidecar.Find("resources", "limits", "nvidia.com/gpu")); // claiming a GPU would take it from the engines
    }

    [Fact]
    public void DaemonSet_SelectorMatchesItsPodLabels()
    {
        var selector = Manifests.DaemonSet.Map("spec", "selector", "matchLabels").Entries();
        var labels = Manifests.DaemonSet.Map("spec", "template", "metadata", "labels").Entries();

        Assert.All(selector, s => Assert.Equal(((YamlScalarNode)s.Value).Value, ((YamlScalarNode)labels[s.Key]).Value));
    }

    [Fact]
    public void DaemonSet_ExposesTheGrpcDataAndMetricsPortsTheFlagsListenOn()
    {
        var flags = Manifests.SidecarFlags();

        Assert.Equal("$(POD_IP):" + Manifests.ContainerPort("grpc"), flags["--listen"]);
        Assert.Equal("$(POD_IP):" + Manifests.ContainerPort("data"), flags["--data-listen"]);
        Assert.Equal("0.0.0.0:" + Manifests.ContainerPort("metrics"), flags["--metrics"]);
        Assert.Equal("status.podIP", Manifests.Sidecar.Seq("env").Named("POD_IP").Str("valueFrom", "fieldRef", "fieldPath"));
        Assert.Equal("spec.nodeName", Manifests.Sidecar.Seq("env").Named("NODE_NAME").Str("valueFrom", "fieldRef", "fieldPath"));
    }

    [Theory]
    [InlineData("livenessProbe", "/healthz")]
    [InlineData("startupProbe", "/healthz")]
    [InlineData("readinessProbe", "/readyz")]
    public void DaemonSet_ProbesTheHealthEndpointsOnTheMetricsPort(string probe, string path)
    {
        var get = Manifests.Sidecar.Map(probe, "httpGet");

        Assert.Equal(path, get.Str("path"));
        Assert.Equal("metrics", get.Str("port"));
    }

    [Fact]
    public void DaemonSet_MemoryRequestEqualsLimitAndCoversTheBudgetStagingAndOverhead()
    {
        var flags = Manifests.SidecarFlags();
        var request = Quantity.Bytes(Manifests.Sidecar.Str("resources", "requests", "memory"));
        var limit = Quantity.Bytes(Manifests.Sidecar.Str("resources", "limits", "memory"));
        var needed = Quantity.Bytes(flags["--memory"]) + Quantity.Bytes(flags["--staging"]) + (1L << 30);

        Assert.Equal(limit, request); // Guaranteed QoS
        Assert.True(limit >= needed, $"limit {limit} B is below --memory + --staging + 1 GiB overhead = {needed} B");
        Assert.True(limit <= needed + (1L << 30), $"limit {limit} B wastes more than 1 GiB over {needed} B");
    }

    [Fact]
    public void DaemonSet_SharesTheShmDirectoryThroughAHostPathUnderDevShmAtTheSamePath()
    {
        var pod = Manifests.DaemonSet.Map("spec", "template", "spec");
        var volume = pod.Seq("volumes").Named("shm");
        var hostPath = volume.Str("hostPath", "path");

        Assert.StartsWith("/dev/shm/", hostPath, StringComparison.Ordinal);
        Assert.Equal(hostPath, Manifests.Sidecar.Seq("volumeMounts").Named("shm").Str("mountPath"));
        Assert.Null(volume.Find("emptyDir")); // an emptyDir cannot be shared with the engine's pod
        var init = pod.Seq("initContainers").Named("host-dirs");
        Assert.Contains(hostPath, string.Join(' ', init.Seq("command").Strings()), StringComparison.Ordinal);
    }

    [Fact]
    public void DaemonSet_RunsAsTheImagesNonRootUserWithoutPrivileges()
    {
        var pod = Manifests.DaemonSet.Map("spec", "template", "spec");

        Assert.Equal("true", pod.Str("securityContext", "runAsNonRoot"));
        Assert.Equal(ContainerfileTests.User().Uid, pod.Str("securityContext", "runAsUser"));
        Assert.Equal("false", Manifests.Sidecar.Str("securityContext", "allowPrivilegeEscalation"));
        Assert.Equal(["ALL"], Manifests.Sidecar.Seq("securityContext", "capabilities", "drop").Strings());
    }

    [Fact]
    public void DaemonSet_PassesTheConfigMapWithConfigAndMountsTheSecretAsTheWorkingDirectorySettings()
    {
        var pod = Manifests.DaemonSet.Map("spec", "template", "spec");
        var config = Manifests.SidecarFlags()["--config"];
        var configMount = Manifests.Sidecar.Seq("volumeMounts").Named("config");
        var configMap = Manifests.Get("ConfigMap", pod.Seq("volumes").Named("config").Str("configMap", "name"));

        Assert.Equal(configMount.Str("mountPath"), System.IO.Path.GetDirectoryName(config));
        Assert.NotNull(configMap.Find("data", System.IO.Path.GetFileName(config)));

        var secretMount = Manifests.Sidecar.Seq("volumeMounts").Named("secrets");
        var secret = Manifests.Get("Secret", pod.Seq("volumes").Named("secrets").Str("secret", "secretName"));
        Assert.Equal(ContainerfileTests.WorkDir() + "/" + ServerOptionsBinder.AppSettingsFile, secretMount.Str("mountPath"));
        Assert.NotNull(secret.Find("stringData", secretMount.Str("subPath")));
    }

    [Fact]
    public void DaemonSet_TakesTheClusterSecretFromTheSecretAsAKvTierVariable()
    {
        var variable = Manifests.Sidecar.Seq("env").Named(ServerOptionsBinder.EnvironmentPrefix + "CLUSTERSECRET");
        var reference = variable.Map("valueFrom", "secretKeyRef");
        var secret = Manifests.Get("Secret", reference.Str("name"));

        Assert.False(string.IsNullOrWhiteSpace(secret.StrOrNull("stringData", reference.Str("key"))));
    }

    [Fact]
    public void DaemonSet_PodLimitHoldsTheStoreUnderTheShippedHeapLimitButNotUnderDotNetsDefault()
    {
        var options = Settings.Bind(Manifests.SidecarFlags(), Manifests.Sidecar.Seq("env"), ConfigMapJson());
        var limit = PodMemory.SidecarLimit();

        // The store's pages live on the GC heap: under .NET's default container cap (75 % of the limit) the sidecar
        // would die of "Out of memory" while preallocating; the executable raises the cap, and serve's start check passes.
        Assert.True(PodMemory.ShippedHeapLimitPercent() > PodMemory.DotNetContainerDefaultPercent);
        ServerOptionsValidator.Validate(options, PodMemory.ForGc(limit, PodMemory.ShippedHeapLimitPercent()));
        var error = Assert.Throws<ArgumentException>(() => ServerOptionsValidator.Validate(options, PodMemory.ForGc(limit, PodMemory.DotNetContainerDefaultPercent)));
        Assert.Contains("(--memory)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DaemonSet_SettingsBindAndValidateAsTheSidecarWouldReadThem()
    {
        var secret = Manifests.Get("Secret", "kvtier-secrets").Str("stringData", ServerOptionsBinder.AppSettingsFile);

        var options = Settings.Bind(Manifests.SidecarFlags(), Manifests.Sidecar.Seq("env"), ConfigMapJson(), appSettingsJson: secret);

        Assert.Equal("10.1.2.3:" + Manifests.ContainerPort("grpc"), options.Listen);
        Assert.Equal("gpu-node-1", options.NodeId);
        Assert.Equal("secret-from-kubernetes", options.ClusterSecret);
        Assert.Equal($"http://{EtcdClientService().Str("metadata", "name")}.{Manifests.Namespace}.svc.cluster.local:2379", options.Etcd);
        Assert.True(options.Auth.Enabled, "the mounted Secret's API keys did not bind");
        Assert.Equal("default", options.Auth.ApiKeys["change-me-engine-key"]);
        Assert.Equal("ops", options.Auth.AdminKeys["change-me-admin-key"]);
        Assert.Equal("2GiB", options.Auth.Quotas["shared"]);
        Assert.False(options.Tls.Enabled); // TLS comes with the tls component (K8sTlsComponentTests)
    }

    [Theory]
    [InlineData("""{"KvTier":{"Auth":{"ApiKeys":{}}}}""", 0, 0, 0, null)] // the Helm chart's Secret with the default (empty) auth values
    [InlineData("""{"KvTier":{"Auth":{"ApiKeys":{"engine-key-0123456789":"team-a","other-key-0123456789":"team-b"}}}}""", 2, 0, 0, null)]
    [InlineData("""{"KvTier":{"Auth":{"AdminKeys":{"ops-admin-key-0123456789":"ops"},"ApiKeys":{"engine-key-0123456789":"team-a"},"DefaultQuota":"10%","Quotas":{"shared":"2GiB","team-a":"8GiB"}}}}""", 1, 1, 2, "10%")]
    [InlineData("""{"KvTier":{"Auth":{"AdminKeys":{"ops-admin-key-0123456789":"ops"},"ApiKeys":{}}}}""", 0, 1, 0, null)] // admin keys alone switch auth on
    [InlineData("""{"KvTier":{"Auth":{"ApiKeys":{},"DefaultQuota":"5%","Quotas":{"default":"1GiB"}}}}""", 0, 0, 1, "5%")] // quotas without keys: tenant default
    public void HelmSecret_AppSettingsShapesBindAsTheSidecarWouldReadThem(string appSettings, int keys, int adminKeys, int quotas, string? defaultQuota)
    {
        var options = Settings.Bind(Manifests.SidecarFlags(), Manifests.Sidecar.Seq("env"), ConfigMapJson(), appSettingsJson: appSettings);

        Assert.Equal(keys, options.Auth.ApiKeys.Count);
        Assert.Equal(adminKeys, options.Auth.AdminKeys.Count);
        Assert.Equal(keys + adminKeys > 0, options.Auth.Enabled);
        Assert.Equal(quotas, options.Auth.Quotas.Count);
        Assert.Equal(defaultQuota, options.Auth.DefaultQuota);
    }

    [Fact]
    public void HelmSecret_AQuotaForATenantNoKeyMapsToIsRefusedAtBind()
    {
        const string appSettings = """{"KvTier":{"Auth":{"ApiKeys":{"engine-key-0123456789":"team-a"},"Quotas":{"team-z":"1GiB"}}}}""";

        var error = Assert.ThrowsAny<ArgumentException>(() =>
            Settings.Bind(Manifests.SidecarFlags(), Manifests.Sidecar.Seq("env"), ConfigMapJson(), appSettingsJson: appSettings));
        Assert.Contains("Auth:Quotas", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ConfigMap_AppSettingsIsJsonWithAKvTierSectionOfKnownSettings()
    {
        using var json = JsonDocument.Parse(ConfigMapJson());
        var section = json.RootElement.GetProperty(ServerOptions.SectionName);

        Assert.Equal(JsonValueKind.Object, section.ValueKind);
        Assert.All(section.EnumerateObject(), p => Assert.True(ServerSetting.Find(p.Name) is not null, $"{p.Name} is not a KvTier setting"));
        Assert.Single(json.RootElement.EnumerateObject());
    }

    [Theory]
    [InlineData("ApiKeys")]
    [InlineData("AdminKeys")]
    [InlineData("Quotas")]
    public void Secret_HoldsKeysByTenantQuotasAndAClusterSecret(string map)
    {
        var secret = Manifests.Get("Secret", "kvtier-secrets");
        using var json = JsonDocument.Parse(secret.Str("stringData", "appsettings.json"));
        var auth = json.RootElement.GetProperty("KvTier").GetProperty("Auth");
        var entries = auth.GetProperty(map);

        Assert.All(auth.EnumerateObject(), p => Assert.True(ServerSetting.Find("Auth:" + p.Name) is not null, $"Auth:{p.Name} is not a KvTier setting"));
        Assert.Equal(JsonValueKind.Object, entries.ValueKind);
        Assert.NotEmpty(entries.EnumerateObject());
        Assert.All(entries.EnumerateObject(), k => Assert.Equal(JsonValueKind.String, k.Value.ValueKind));
        Assert.False(string.IsNullOrWhiteSpace(secret.StrOrNull("stringData", "cluster-secret")));
    }

    [Fact]
    public void Service_SelectsTheSidecarPodsKeepsTrafficOnTheNodeAndNamesItsPorts()
    {
        var service = Manifests.Get("Service", "kvtier");
        var labels = Manifests.DaemonSet.Map("spec", "template", "metadata", "labels").Entries();

        Assert.All(service.Map("spec", "selector").Entries(), s => Assert.Equal(((YamlScalarNode)s.Value).Value, ((YamlScalarNode)labels[s.Key]).Value));
        Assert.Equal("Local", service.Str("spec", "internalTrafficPolicy"));
        foreach (var name in new[] { "grpc", "data", "metrics" })
        {
            var port = service.Seq("spec", "ports").Named(name);
            Assert.Equal(Manifests.ContainerPort(name), port.Int("port"));
            Assert.Equal(name, port.Str("targetPort"));
        }
    }

    [Fact]
    public void Etcd_IsAStatefulSetOfThreeBehindAHeadlessServiceWithEveryMemberInTheInitialCluster()
    {
        var statefulSet = Manifests.Get("StatefulSet", "kvtier-etcd");
        var headless = Manifests.Get("Service", statefulSet.Str("spec", "serviceName"));
        var command = statefulSet.Seq("spec", "template", "spec", "containers").Named("etcd").Seq("command").Strings();
        var initial = command.Single(c => c.StartsWith("--initial-cluster=", StringComparison.Ordinal))["--initial-cluster=".Length..];

        Assert.Equal(3, statefulSet.Int("spec", "replicas"));
        Assert.Equal("None", headless.Str("spec", "clusterIP"));
        Assert.Equal("true", headless.Str("spec", "publishNotReadyAddresses"));
        Assert.Equal(["kvtier-etcd-0", "kvtier-etcd-1", "kvtier-etcd-2"], initial.Split(',').Select(m => m.Split('=')[0]));
        Assert.All(initial.Split(','), m => Assert.Contains($".{headless.Str("metadata", "name")}.{Manifests.Namespace}.svc", m, StringComparison.Ordinal));
        Assert.NotNull(statefulSet.Find("spec", "volumeClaimTemplates"));
        Assert.Equal(2, Manifests.Get("PodDisruptionBudget", "kvtier-etcd").Int("spec", "minAvailable"));
    }

    private static string ConfigMapJson() => Manifests.Get("ConfigMap", "kvtier-config").Str("data", "appsettings.json");

    private static YamlMappingNode EtcdClientService() =>
        Manifests.Objects.Single(d => d.Str("kind") == "Service" && d.StrOrNull("metadata", "name") == "kvtier-etcd-client"
            && d.StrOrNull("spec", "clusterIP") != "None");
}
