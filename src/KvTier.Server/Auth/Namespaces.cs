namespace KvTier.Server.Auth;

/// <summary>The namespaces blocks live in besides each tenant's own, and the header that selects one.</summary>
internal static class Namespaces
{
    /// <summary>The tenant of every call when no API keys are configured.</summary>
    public const string Default = "default";

    /// <summary>Public prefixes: every tenant reads them (after its own blocks); only admin keys write them.</summary>
    public const string Shared = "shared";

    /// <summary>Request metadata naming the namespace a call works in: <c>shared</c>, or the key's own tenant.</summary>
    public const string Header = "kvtier-namespace";

    /// <summary>The metadata carrying the API key.</summary>
    public const string Authorization = "authorization";
}
