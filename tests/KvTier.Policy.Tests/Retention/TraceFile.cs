using KvTier.Policy;

namespace KvTier.Policy.Tests.Retention;

/// <summary>The Mooncake conversation trace (the repository's bench/traces copy), loaded once.</summary>
internal static class TraceFile
{
    private static readonly Lazy<ConversationTrace> Loaded = new(() => ConversationTrace.Load(
        ConversationTrace.FindDefault(AppContext.BaseDirectory)
        ?? throw new FileNotFoundException($"none of {string.Join(", ", ConversationTrace.DefaultLocations)} above {AppContext.BaseDirectory}")));

    public static ConversationTrace Conversation => Loaded.Value;
}
