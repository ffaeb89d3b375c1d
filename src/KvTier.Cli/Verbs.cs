using System.CommandLine;
using KvTier.Cli.Commands;

namespace KvTier.Cli;

/// <summary>
/// The verbs of <c>kvtier</c>, in help order. To add one, write <c>Commands/XCommand.cs</c> with
/// <c>public static Command Create()</c> and list <c>XCommand.Create</c> here.
/// </summary>
internal static class Verbs
{
    public static IReadOnlyList<Func<Command>> All { get; } =
    [
        ServeCommand.Create,
        HashCommand.Create,
        PutCommand.Create,
        GetCommand.Create,
        LookupCommand.Create,
        StatsCommand.Create,
        ClusterCommand.Create,
        ConfigCommand.Create,
        BenchCommand.Create,
        EngineSimCommand.Create,
    ];
}
