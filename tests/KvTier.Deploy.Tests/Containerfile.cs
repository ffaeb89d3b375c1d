namespace KvTier.Deploy.Tests;

/// <summary>A Containerfile as its instructions: comments dropped, backslash continuations joined.</summary>
internal static class Containerfile
{
    public static IReadOnlyList<(string Instruction, string Arguments)> Parse(string text)
    {
        var instructions = new List<(string, string)>();
        var current = "";
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (current.Length == 0 && (line.TrimStart().StartsWith('#') || line.Trim().Length == 0))
            {
                continue;
            }

            if (line.EndsWith('\\'))
            {
                current += line[..^1] + " ";
                continue;
            }

            current += line;
            var trimmed = current.Trim();
            var space = trimmed.IndexOf(' ', StringComparison.Ordinal);
            instructions.Add(space < 0 ? (trimmed.ToUpperInvariant(), "") : (trimmed[..space].ToUpperInvariant(), trimmed[(space + 1)..].Trim()));
            current = "";
        }

        return instructions;
    }
}
