namespace KvTier.Deploy.Tests;

/// <summary>deploy/systemd/kvtier.service: starts <c>kvtier serve</c> with the config file, as an unprivileged user, restarting on failure.</summary>
public sealed class SystemdUnitTests
{
    private static readonly Dictionary<string, Dictionary<string, string>> s_unit = Parse(Repo.Read("deploy", "systemd", "kvtier.service"));

    [Fact]
    public void Unit_HasUnitServiceAndInstallSections()
    {
        Assert.Equal(["Install", "Service", "Unit"], s_unit.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("multi-user.target", s_unit["Install"]["WantedBy"]);
        Assert.Contains("network-online.target", s_unit["Unit"]["After"], StringComparison.Ordinal);
    }

    [Fact]
    public void ExecStart_RunsKvtierServeWithTheConfigFile()
    {
        var exec = s_unit["Service"]["ExecStart"].Split(' ', StringSplitOptions.RemoveEmptyEntries);

        Assert.EndsWith("/kvtier", exec[0], StringComparison.Ordinal);
        Assert.True(exec[0].StartsWith('/'), "ExecStart needs an absolute path");
        Assert.Equal("serve", exec[1]);
        Assert.Equal("/etc/kvtier/appsettings.json", exec[Array.IndexOf(exec, "--config") + 1]);
    }

    [Fact]
    public void Service_RunsAsAnUnprivilegedUserAndRestartsOnFailure()
    {
        var service = s_unit["Service"];

        Assert.NotEqual("root", service["User"]);
        Assert.Equal("on-failure", service["Restart"]);
        Assert.True(int.Parse(service["TimeoutStartSec"], System.Globalization.CultureInfo.InvariantCulture) >= 60,
            "the store preallocates its budget at start: allow it a minute or more");
    }

    private static Dictionary<string, Dictionary<string, string>> Parse(string text)
    {
        var sections = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        Dictionary<string, string>? current = null;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or ';')
            {
                continue;
            }

            if (line[0] == '[')
            {
                Assert.EndsWith("]", line, StringComparison.Ordinal);
                current = [];
                sections.Add(line[1..^1], current);
                continue;
            }

            Assert.True(current is not null, $"'{line}' is outside any section");
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            Assert.True(eq > 0, $"'{line}' is not key=value");
            current[line[..eq].Trim()] = line[(eq + 1)..].Trim();
        }

        return sections;
    }
}
