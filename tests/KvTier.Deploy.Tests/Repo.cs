namespace KvTier.Deploy.Tests;

/// <summary>Paths in the repository the tests run from (found by walking up to KvTier.sln).</summary>
internal static class Repo
{
    private static readonly Lazy<string> s_root = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "KvTier.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no KvTier.sln above {AppContext.BaseDirectory}: run the tests from the repository");
    });

    public static string Root => s_root.Value;

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    public static string Read(params string[] parts) => File.ReadAllText(Path(parts));
}
