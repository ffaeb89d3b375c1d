using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using KvTier.Core;

namespace KvTier.Server.Auth;

/// <summary>
/// The namespaces one call works in, from its API key and its <c>kvtier-namespace</c> header. Reads look in the key's
/// tenant, then in <c>shared</c> (a chain may start with shared blocks and go on with the tenant's own); writes go to
/// the key's tenant, or to <c>shared</c> when the header asks and the key is an admin key. A call never names another
/// tenant: the key decides.
/// </summary>
internal sealed class CallScope
{
    /// <summary>What a write to <c>shared</c> with a key that is not an admin key is told.</summary>
    public const string WriteDenied =
        $"{Namespaces.Header}: {Namespaces.Shared}: only admin keys (KvTier:Auth:AdminKeys) write the shared namespace; "
        + $"every key reads it: leave the header out to write your own tenant's blocks";

    private const string UserStateKey = "kvtier.scope";

    private CallScope(Caller caller, string? requested, bool readsShared)
    {
        Tenant = caller.Tenant;
        IsAdmin = caller.IsAdmin;
        Reads = requested is not null ? [requested] : readsShared ? [caller.Tenant, Namespaces.Shared] : [caller.Tenant];
        WriteNamespace = requested != Namespaces.Shared ? caller.Tenant : caller.IsAdmin ? Namespaces.Shared : null;
    }

    /// <summary>The key's tenant (<c>default</c> without keys).</summary>
    public string Tenant { get; }

    /// <summary>True for an admin key (and for every call when no keys are configured).</summary>
    public bool IsAdmin { get; }

    /// <summary>The namespaces reads look in, in order: the tenant's own, then <c>shared</c>; or the one the header named.</summary>
    public IReadOnlyList<string> Reads { get; }

    /// <summary>Where writes go; null when the call asked for <c>shared</c> without an admin key.</summary>
    public string? WriteNamespace { get; }

    /// <summary>Scopes <paramref name="context"/>'s call.</summary>
    public static void Attach(ServerCallContext context, Caller caller, string? requested, bool readsShared) =>
        context.UserState[UserStateKey] = new CallScope(caller, requested, readsShared);

    /// <summary>The scope the auth interceptor gave the call.</summary>
    public static CallScope Of(ServerCallContext context) =>
        context.UserState.TryGetValue(UserStateKey, out var scope) && scope is CallScope s
            ? s
            : throw new InvalidOperationException($"{context.Method} has no call scope: the auth interceptor did not run.");

    /// <summary>
    /// The key an in-flight prefill lease is kept under: the prefix key itself for <c>default</c> (as before tenants),
    /// else a digest of tenant and key, so that tenants computing the same tokens never see each other's leases.
    /// </summary>
    public BlockKey LeaseKey(in BlockKey prefix)
    {
        if (Tenant == Namespaces.Default)
        {
            return prefix;
        }

        var tenant = Encoding.UTF8.GetBytes(Tenant);
        var input = new byte[tenant.Length + 1 + BlockKey.Size];
        tenant.CopyTo(input, 0);
        prefix.AsSpan().CopyTo(input.AsSpan(tenant.Length + 1));
        return new BlockKey(SHA256.HashData(input));
    }

    /// <summary>The caller's credentials and namespace, for a call this node forwards to another member.</summary>
    public static Metadata Forwarded(ServerCallContext context)
    {
        var headers = new Metadata();
        foreach (var entry in context.RequestHeaders)
        {
            if (entry.Key is Namespaces.Authorization or Namespaces.Header)
            {
                headers.Add(entry.Key, entry.Value);
            }
        }

        return headers;
    }
}
