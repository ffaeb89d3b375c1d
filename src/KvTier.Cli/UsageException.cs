namespace KvTier.Cli;

/// <summary>Bad usage or input: printed as one line on stderr, exit code 2. The message names the value and the fix.</summary>
internal sealed class UsageException(string message) : Exception(message)
{
    /// <summary>
    /// A refusal from the libraries, shown as its message after <paramref name="prefix"/>, without the
    /// " (Parameter 'name')" that <see cref="ArgumentException.Message"/> appends for programmers.
    /// </summary>
    public static UsageException From(ArgumentException e, string prefix = "") =>
        new(prefix + (e.ParamName is { } name ? e.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal) : e.Message));
}
