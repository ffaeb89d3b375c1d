namespace KvTier.Policy;

/// <summary>A prefill profile's text is malformed; <see cref="Field"/> names the offending field when there is one.</summary>
public sealed class PrefillProfileFormatException : FormatException
{
    /// <summary>Creates the exception.</summary>
    public PrefillProfileFormatException(string message, string? field = null, Exception? inner = null)
        : base(message, inner)
    {
        Field = field;
    }

    /// <summary>The JSON field at fault, or null when the text as a whole is.</summary>
    public string? Field { get; }
}
