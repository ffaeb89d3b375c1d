using KvTier.Policy;

namespace KvTier.Policy.Tests.Retention;

/// <summary>The Mooncake conversation trace that sits next to the repository (shared/traces), loaded once.</summary>
internal static class TraceFile
{
    private const string RelativePath = "shared/traces/conversation_trace.jsonl";

    private static readonly Lazy<ConversationTrace> Loaded = new(() => ConversationTrace.Load(Locate()));

    public static ConversationTrace Conversation => Loaded.Value;

    // Walk up from the test binaries: the trace lives beside the checkout (…/shared next to …/main), not inside it.
    private static string Locate()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, RelativePath);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"{RelativePath} not found above {AppContext.BaseDirectory}");
    }
}
