using System.Text.Json;

namespace KvTier.Deploy.Tests;

/// <summary>deploy/container/Containerfile: a two-stage build of the CLI that runs <c>kvtier serve</c> as a non-root user.</summary>
public sealed class ContainerfileTests
{
    private static readonly IReadOnlyList<(string Instruction, string Arguments)> s_file =
        Containerfile.Parse(Repo.Read("deploy", "container", "Containerfile"));

    [Fact]
    public void Containerfile_BuildsOnTheSdkAndRunsOnTheAspNetRuntime()
    {
        var stages = s_file.Where(i => i.Instruction == "FROM").Select(i => i.Arguments.Split(' ')[0]).ToArray();

        Assert.Equal(["mcr.microsoft.com/dotnet/sdk:10.0", "mcr.microsoft.com/dotnet/aspnet:10.0"], stages);
        Assert.Contains(s_file, i => i.Instruction == "RUN" && i.Arguments.Contains("dotnet publish src/KvTier.Cli/KvTier.Cli.csproj", StringComparison.Ordinal)
            && i.Arguments.Contains("-c Release", StringComparison.Ordinal) && i.Arguments.Contains("-o /app", StringComparison.Ordinal));
        Assert.Contains(s_file, i => i.Instruction == "COPY" && i.Arguments.StartsWith("--from=build /app", StringComparison.Ordinal));
    }

    [Fact]
    public void Containerfile_EntrypointIsKvtierServeInExecForm()
    {
        var entrypoint = s_file.Last(i => i.Instruction == "ENTRYPOINT").Arguments;

        Assert.Equal(["/app/kvtier", "serve"], JsonSerializer.Deserialize<string[]>(entrypoint)!);
    }

    [Fact]
    public void Containerfile_RunsAsANumericNonRootUser()
    {
        var (uid, _) = User();

        Assert.True(int.TryParse(uid, out var n) && n > 0, $"USER {uid} is not a non-root UID (runAsNonRoot needs a number)");
    }

    [Fact]
    public void Containerfile_ExposesThePortsTheDaemonSetUses()
    {
        var exposed = s_file.Where(i => i.Instruction == "EXPOSE").SelectMany(i => i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToHashSet();

        foreach (var name in new[] { "grpc", "data", "metrics" })
        {
            Assert.Contains(Manifests.ContainerPort(name).ToString(System.Globalization.CultureInfo.InvariantCulture), exposed);
        }
    }

    [Fact]
    public void Containerfile_DefaultFlagsListenOnEveryInterfaceOnTheExposedPorts()
    {
        var cmd = JsonSerializer.Deserialize<string[]>(s_file.Last(i => i.Instruction == "CMD").Arguments)!;
        var exposed = s_file.Single(i => i.Instruction == "EXPOSE").Arguments.Split(' ');

        Assert.Equal("0.0.0.0:" + exposed[0], cmd[Array.IndexOf(cmd, "--listen") + 1]);
        Assert.Equal("0.0.0.0:" + exposed[1], cmd[Array.IndexOf(cmd, "--data-listen") + 1]);
        Assert.Equal("0.0.0.0:" + exposed[2], cmd[Array.IndexOf(cmd, "--metrics") + 1]);
    }

    /// <summary>The runtime stage's USER as (uid, gid).</summary>
    internal static (string Uid, string? Gid) User()
    {
        var user = s_file.Last(i => i.Instruction == "USER").Arguments.Split(':');
        return (user[0], user.Length > 1 ? user[1] : null);
    }

    /// <summary>The runtime stage's working directory (the sidecar reads appsettings.json from it).</summary>
    internal static string WorkDir() => s_file.Last(i => i.Instruction == "WORKDIR").Arguments;
}
