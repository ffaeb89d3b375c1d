using System.Globalization;
using System.Xml.Linq;

namespace KvTier.Deploy.Tests;

/// <summary>
/// The memory the sidecar's .NET GC may use in a pod: the container's limit times the heap-limit percentage the
/// kvtier executable ships with (its runtimeconfig, set in KvTier.Cli.csproj), or .NET's container default of 75 %.
/// </summary>
internal static class PodMemory
{
    /// <summary>.NET's heap limit in a container with a memory limit, when the app sets none.</summary>
    public const int DotNetContainerDefaultPercent = 75;

    /// <summary>System.GC.HeapHardLimitPercent from KvTier.Cli.csproj, or the .NET default when it sets none.</summary>
    public static int ShippedHeapLimitPercent()
    {
        var option = XDocument.Parse(Repo.Read("src", "KvTier.Cli", "KvTier.Cli.csproj")).Descendants("RuntimeHostConfigurationOption")
            .SingleOrDefault(o => (string?)o.Attribute("Include") == "System.GC.HeapHardLimitPercent");
        return option is null ? DotNetContainerDefaultPercent : int.Parse((string)option.Attribute("Value")!, CultureInfo.InvariantCulture);
    }

    /// <summary>What the GC of a container limited to <paramref name="limitBytes"/> lets the process use.</summary>
    public static long ForGc(long limitBytes, int percent) => limitBytes / 100 * percent;

    /// <summary>The daemonset's sidecar memory limit.</summary>
    public static long SidecarLimit() => Quantity.Bytes(Manifests.Sidecar.Str("resources", "limits", "memory"));
}
