using KvTier.Server;
using YamlDotNet.RepresentationModel;

namespace KvTier.Deploy.Tests;

/// <summary>deploy/k8s/tls: the Component's patches apply to deploy/k8s, mount the TLS Secret and pass flags the sidecar accepts.</summary>
public sealed class K8sTlsComponentTests
{
    private static readonly string[] s_tlsFlags = ["--tls-cert", "--tls-key", "--tls-ca"];

    [Fact]
    public void Component_IsAKustomizeComponentPatchingObjectsOfTheManifests()
    {
        var component = TlsComponent.Kustomization;

        Assert.Equal("kustomize.config.k8s.io/v1alpha1", component.Str("apiVersion"));
        Assert.Equal("Component", component.Str("kind"));
        Assert.All(component.Seq("patches").Maps(), p => Manifests.Get(p.Str("target", "kind"), p.Str("target", "name")));
        Assert.Contains("components:", Repo.Read("deploy", "k8s", "kustomization.yaml"), StringComparison.Ordinal); // how to switch it on
    }

    [Fact]
    public void Patches_ApplyAndLeaveTheOtherFlagsAsTheyWere()
    {
        var flags = Manifests.Flags(TlsComponent.Sidecar(TlsComponent.DaemonSet()));

        Assert.Equal(Manifests.SidecarFlags().OrderBy(f => f.Key, StringComparer.Ordinal),
            flags.Where(f => !s_tlsFlags.Contains(f.Key)).OrderBy(f => f.Key, StringComparer.Ordinal));
        Assert.Equal(s_tlsFlags.Order(StringComparer.Ordinal), flags.Keys.Where(s_tlsFlags.Contains).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(Manifests.SidecarFlags().Keys, s_tlsFlags.Contains); // TLS is off without the component
    }

    [Theory]
    [InlineData("--tls-cert", "tls.crt")]
    [InlineData("--tls-key", "tls.key")]
    [InlineData("--tls-ca", "ca.crt")]
    public void DaemonSet_TlsFlagsNameFilesOfTheTlsSecretMountedReadOnly(string flag, string key)
    {
        var daemonSet = TlsComponent.DaemonSet();
        var sidecar = TlsComponent.Sidecar(daemonSet);
        var file = Manifests.Flags(sidecar)[flag];
        var mount = Assert.Single(sidecar.Seq("volumeMounts").Maps(), m => m.Str("mountPath") == Path.GetDirectoryName(file));
        var volume = daemonSet.Seq("spec", "template", "spec", "volumes").Named(mount.Str("name"));

        Assert.Equal("true", mount.Str("readOnly"));
        Assert.Equal("kvtier-tls", volume.Str("secret", "secretName"));
        var items = volume.Find("secret", "items") as YamlSequenceNode;
        var name = items is null ? key : Assert.Single(items.Maps(), i => i.Str("key") == key).Str("path"); // no items: a file per key
        Assert.Equal(name, Path.GetFileName(file));
        if (flag == "--tls-key")
        {
            Assert.Null(items); // the Secret's own mount
        }
    }

    [Fact]
    public void DaemonSet_CaMountHoldsOnlyTheCaCertificate()
    {
        var daemonSet = TlsComponent.DaemonSet();
        var file = Manifests.Flags(TlsComponent.Sidecar(daemonSet))["--tls-ca"];
        var mount = TlsComponent.Sidecar(daemonSet).Seq("volumeMounts").Maps().Single(m => m.Str("mountPath") == Path.GetDirectoryName(file));
        var items = daemonSet.Seq("spec", "template", "spec", "volumes").Named(mount.Str("name")).Seq("secret", "items");

        Assert.Equal(["ca.crt"], items.Maps().Select(i => i.Str("key")));
    }

    [Fact]
    public void DaemonSet_VolumeNamesAndMountPathsStayUnique()
    {
        var daemonSet = TlsComponent.DaemonSet();
        var volumes = daemonSet.Seq("spec", "template", "spec", "volumes").Maps().Select(v => v.Str("name")).ToList();
        var mounts = TlsComponent.Sidecar(daemonSet).Seq("volumeMounts").Maps().ToList();

        Assert.Equal(volumes.Count, volumes.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(mounts.Count, mounts.Select(m => m.Str("mountPath")).Distinct(StringComparer.Ordinal).Count());
        Assert.All(mounts, m => Assert.Contains(m.Str("name"), volumes));
    }

    [Fact]
    public void DaemonSet_TlsSettingsBindAndValidateWithACertificateAtTheMountedPaths()
    {
        var daemonSet = TlsComponent.DaemonSet();
        var sidecar = TlsComponent.Sidecar(daemonSet);
        var flags = Manifests.Flags(sidecar);
        var secret = Manifests.Get("Secret", "kvtier-secrets").Str("stringData", ServerOptionsBinder.AppSettingsFile);
        var files = Directory.CreateTempSubdirectory("kvtier-deploy-tls-");
        try
        {
            TlsComponent.WriteSecretFiles(files.FullName);
            var mounts = s_tlsFlags.Select(f => Path.GetDirectoryName(flags[f])!).Distinct().ToDictionary(d => d, _ => files.FullName);

            var options = Settings.Bind(flags, sidecar.Seq("env"), Manifests.Get("ConfigMap", "kvtier-config").Str("data", "appsettings.json"),
                appSettingsJson: secret, mounts: mounts);

            Assert.True(options.Tls.Enabled);
            Assert.Equal(Path.Combine(files.FullName, "tls.crt"), options.Tls.CertificateFile);
            Assert.Equal(Path.Combine(files.FullName, "tls.key"), options.Tls.KeyFile);
            Assert.Equal(Path.Combine(files.FullName, "ca.crt"), options.Tls.CaFile);
        }
        finally
        {
            files.Delete(recursive: true);
        }
    }

    [Fact]
    public void Service_GrpcPortSaysHttpsWithTheComponentAndH2cWithout()
    {
        Assert.Equal("https", TlsComponent.Service().Seq("spec", "ports").Named("grpc").Str("appProtocol"));
        Assert.Equal("kubernetes.io/h2c", Manifests.Get("Service", "kvtier").Seq("spec", "ports").Named("grpc").Str("appProtocol"));
    }
}
