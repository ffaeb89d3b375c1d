namespace KvTier.Cli;

/// <summary>Bad usage or input: printed as one line on stderr, exit code 2. The message names the value and the fix.</summary>
internal sealed class UsageException(string message) : Exception(message);
