namespace KvTier.Server;

/// <summary>
/// Section <c>KvTier:Auth</c>: API keys and the tenant each one maps to, admin keys, and per-tenant DRAM quotas. With no
/// keys every call is tenant <c>default</c> (as before authentication existed); with keys every call must carry
/// <c>authorization: Bearer KEY</c> and is confined to that key's tenant. Keys are configuration keys, so they may not
/// contain <c>:</c>, and two keys that differ only in case count as one.
/// </summary>
public sealed class AuthOptions
{
    /// <summary>API key → tenant. Default: none (authentication off, one tenant, <c>default</c>).</summary>
    public IReadOnlyDictionary<string, string> ApiKeys { get; set; } = new Dictionary<string, string>();

    /// <summary>
    /// Admin key → tenant: keys that act as their tenant like any other and may also write (put, delete, touch,
    /// offload) the <c>shared</c> namespace. Default: none.
    /// </summary>
    public IReadOnlyDictionary<string, string> AdminKeys { get; set; } = new Dictionary<string, string>();

    /// <summary>Tenant → DRAM quota: a size (<c>2GiB</c>) or a share of the store's memory window (<c>25%</c>). Default: none.</summary>
    public IReadOnlyDictionary<string, string> Quotas { get; set; } = new Dictionary<string, string>();

    /// <summary>The quota of every tenant with a key but no entry in <see cref="Quotas"/> (size or percent). Default: none.</summary>
    public string? DefaultQuota { get; set; }

    /// <summary>True when any key is configured: calls then need one.</summary>
    public bool Enabled => ApiKeys.Count > 0 || AdminKeys.Count > 0;

    /// <summary>The tenants calls can act as: those of the keys, or <c>default</c> without keys.</summary>
    public IReadOnlyList<string> Tenants =>
        Enabled ? [.. ApiKeys.Values.Concat(AdminKeys.Values).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)] : [Auth.Namespaces.Default];
}
