using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace KvTier.Deploy.Tests;

/// <summary>Reads YAML documents and walks them by key, failing with the path that is missing.</summary>
internal static class Yaml
{
    /// <summary>Every non-empty document of a (multi-document) YAML file, with the file name for messages.</summary>
    public static IReadOnlyList<YamlMappingNode> LoadAll(string path)
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(path))
        {
            stream.Load(reader);
        }

        return [.. stream.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>().Where(m => m.Children.Count > 0)];
    }

    public static YamlMappingNode LoadOne(string path) => Assert.Single(LoadAll(path));

    public static YamlNode? Find(this YamlNode node, params string[] path)
    {
        var current = node;
        foreach (var key in path)
        {
            if (current is not YamlMappingNode map || !map.Children.TryGetValue(new YamlScalarNode(key), out var next))
            {
                return null;
            }

            current = next;
        }

        return current;
    }

    public static YamlMappingNode Map(this YamlNode node, params string[] path) =>
        node.Find(path) as YamlMappingNode ?? throw new Xunit.Sdk.XunitException($"no mapping at {string.Join('.', path)}");

    public static YamlSequenceNode Seq(this YamlNode node, params string[] path) =>
        node.Find(path) as YamlSequenceNode ?? throw new Xunit.Sdk.XunitException($"no sequence at {string.Join('.', path)}");

    public static string Str(this YamlNode node, params string[] path) =>
        (node.Find(path) as YamlScalarNode)?.Value ?? throw new Xunit.Sdk.XunitException($"no scalar at {string.Join('.', path)}");

    public static string? StrOrNull(this YamlNode node, params string[] path) => (node.Find(path) as YamlScalarNode)?.Value;

    public static int Int(this YamlNode node, params string[] path) => int.Parse(node.Str(path), CultureInfo.InvariantCulture);

    public static IEnumerable<YamlMappingNode> Maps(this YamlSequenceNode seq) => seq.Children.OfType<YamlMappingNode>();

    /// <summary>The mapping in <paramref name="seq"/> whose <c>name</c> is <paramref name="name"/>.</summary>
    public static YamlMappingNode Named(this YamlSequenceNode seq, string name) =>
        seq.Maps().FirstOrDefault(m => m.StrOrNull("name") == name) ?? throw new Xunit.Sdk.XunitException($"nothing named '{name}'");

    public static IReadOnlyList<string> Strings(this YamlSequenceNode seq) =>
        [.. seq.Children.OfType<YamlScalarNode>().Select(s => s.Value ?? "")];

    public static IReadOnlyDictionary<string, YamlNode> Entries(this YamlMappingNode map) =>
        map.Children.ToDictionary(c => ((YamlScalarNode)c.Key).Value ?? "", c => c.Value);
}
