using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using YamlDotNet.RepresentationModel;

namespace KvTier.Deploy.Tests;

/// <summary>
/// deploy/k8s/tls, the kustomize Component that serves gRPC over HTTPS: its JSON patches applied (as kustomize would) to
/// fresh copies of the plain DaemonSet and Service, so that the tests check the objects it produces.
/// </summary>
internal static class TlsComponent
{
    public static readonly string Dir = Repo.Path("deploy", "k8s", "tls");

    public static YamlMappingNode Kustomization => Yaml.LoadOne(Path.Combine(Dir, "kustomization.yaml"));

    /// <summary>The patch file of the component that targets <paramref name="kind"/> <paramref name="name"/>.</summary>
    public static YamlSequenceNode Patch(string kind, string name)
    {
        var patch = Kustomization.Seq("patches").Maps()
            .Single(p => p.StrOrNull("target", "kind") == kind && p.StrOrNull("target", "name") == name);
        var stream = new YamlStream();
        using (var reader = new StreamReader(Path.Combine(Dir, patch.Str("path"))))
        {
            stream.Load(reader);
        }

        return Assert.IsType<YamlSequenceNode>(Assert.Single(stream.Documents).RootNode);
    }

    /// <summary>The DaemonSet of deploy/k8s with the component's patch applied.</summary>
    public static YamlMappingNode DaemonSet() => Patched("daemonset.yaml", "DaemonSet", "kvtier");

    /// <summary>The Service of deploy/k8s with the component's patch applied.</summary>
    public static YamlMappingNode Service() => Patched("service.yaml", "Service", "kvtier");

    public static YamlMappingNode Sidecar(YamlMappingNode daemonSet) => daemonSet.Seq("spec", "template", "spec", "containers").Named("kvtier");

    private static YamlMappingNode Patched(string file, string kind, string name)
    {
        var doc = Yaml.LoadAll(Repo.Path("deploy", "k8s", file))
            .Single(d => d.StrOrNull("kind") == kind && d.StrOrNull("metadata", "name") == name);
        JsonPatch.Apply(doc, Patch(kind, name));
        return doc;
    }

    /// <summary>
    /// Writes a self-signed certificate (ECDSA P-256) with its PKCS#8 key as tls.crt, tls.key and ca.crt under
    /// <paramref name="dir"/>, as the kubernetes.io/tls Secret the component mounts would hold them.
    /// </summary>
    public static void WriteSecretFiles(string dir)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=kvtier.kvtier.svc", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("kvtier.kvtier.svc");
        names.AddIpAddress(System.Net.IPAddress.Parse("10.1.2.3"));
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllText(Path.Combine(dir, "tls.crt"), certificate.ExportCertificatePem());
        File.WriteAllText(Path.Combine(dir, "tls.key"), key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(Path.Combine(dir, "ca.crt"), certificate.ExportCertificatePem());
    }
}

/// <summary>RFC 6902 JSON patch operations (add, replace, remove, test) on a YAML document, as kustomize applies them.</summary>
internal static class JsonPatch
{
    public static void Apply(YamlNode root, YamlSequenceNode operations)
    {
        foreach (var operation in operations.Maps())
        {
            var op = operation.Str("op");
            var path = operation.Str("path");
            var tokens = path.Split('/')[1..].Select(t => t.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)).ToArray();
            var parent = Walk(root, tokens[..^1], path);
            var last = tokens[^1];
            var value = operation.Find("value");
            switch (op, parent)
            {
                case ("test", _):
                    Assert.True(Walk(root, tokens, path) is YamlScalarNode actual && value is YamlScalarNode expected && actual.Value == expected.Value,
                        $"test {path}: expected '{(value as YamlScalarNode)?.Value}'");
                    break;
                case ("add", YamlSequenceNode seq):
                    if (last == "-")
                    {
                        seq.Children.Add(Required(value, path));
                    }
                    else
                    {
                        seq.Children.Insert(Index(seq, last, path, allowEnd: true), Required(value, path));
                    }

                    break;
                case ("add", YamlMappingNode map):
                    map.Children[new YamlScalarNode(last)] = Required(value, path);
                    break;
                case ("replace", YamlSequenceNode seq):
                    seq.Children[Index(seq, last, path, allowEnd: false)] = Required(value, path);
                    break;
                case ("replace", YamlMappingNode map):
                    Assert.True(map.Children.ContainsKey(new YamlScalarNode(last)), $"replace {path}: nothing there");
                    map.Children[new YamlScalarNode(last)] = Required(value, path);
                    break;
                case ("remove", YamlSequenceNode seq):
                    seq.Children.RemoveAt(Index(seq, last, path, allowEnd: false));
                    break;
                case ("remove", YamlMappingNode map):
                    Assert.True(map.Children.Remove(new YamlScalarNode(last)), $"remove {path}: nothing there");
                    break;
                default:
                    throw new Xunit.Sdk.XunitException($"{op} {path}: not an operation this check knows (add, replace, remove, test)");
            }
        }
    }

    private static YamlNode Walk(YamlNode node, IEnumerable<string> tokens, string path)
    {
        foreach (var token in tokens)
        {
            node = node switch
            {
                YamlMappingNode map when map.Children.TryGetValue(new YamlScalarNode(token), out var next) => next,
                YamlSequenceNode seq => seq.Children[Index(seq, token, path, allowEnd: false)],
                _ => throw new Xunit.Sdk.XunitException($"{path}: '{token}' does not exist in the patched object"),
            };
        }

        return node;
    }

    private static int Index(YamlSequenceNode seq, string token, string path, bool allowEnd)
    {
        Assert.True(int.TryParse(token, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index)
            && index < seq.Children.Count + (allowEnd ? 1 : 0), $"{path}: '{token}' is not an index of a list of {seq.Children.Count}");
        return index;
    }

    private static YamlNode Required(YamlNode? value, string path) =>
        value ?? throw new Xunit.Sdk.XunitException($"{path}: the operation has no value");
}
