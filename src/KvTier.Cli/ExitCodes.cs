namespace KvTier.Cli;

/// <summary>The CLI's exit codes (DESIGN.md contract: scripts branch on them).</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Failure = 1;
    public const int Usage = 2;
    public const int NotFound = 3;
}
