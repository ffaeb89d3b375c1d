using Grpc.Core;
using Grpc.Core.Interceptors;
using KvTier.Store;
using Microsoft.Extensions.Logging;

namespace KvTier.Server.Auth;

/// <summary>
/// Admits every gRPC call: with API keys configured a call must carry <c>authorization: Bearer KEY</c> with a known key
/// (else <c>UNAUTHENTICATED</c>) and may only name its own tenant or <c>shared</c> in <c>kvtier-namespace</c> (else
/// <c>PERMISSION_DENIED</c>); without keys every call is tenant <c>default</c>. Health, reflection and
/// <c>Cluster/Info</c> (the membership probe, which peers send without a key) are open.
/// </summary>
internal sealed class AuthInterceptor(ApiKeyRing keys, IBlockStore store, ClusterRuntime cluster, ILogger<AuthInterceptor> logger) : Interceptor
{
    private const string Bearer = "Bearer ";

    private const string MissingKey =
        "this node requires an API key: send the metadata 'authorization: Bearer <key>' "
        + "(kvtier --api-key KEY or KVTIER_API_KEY; KvTierClient(server, apiKey); the Python client's api_key)";

    private const string UnknownKey =
        "the API key is not valid on this node: send 'authorization: Bearer <key>' with a key from its KvTier:Auth:ApiKeys or AdminKeys";

    private static readonly string[] s_open =
    [
        "/grpc.health.v1.Health/",
        "/grpc.reflection.v1alpha.ServerReflection/",
        "/grpc.reflection.v1.ServerReflection/",
        "/kvtier.v1.Cluster/Info",
    ];

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Admit(context);
        return continuation(request, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Admit(context);
        return continuation(requestStream, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Admit(context);
        return continuation(request, responseStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Admit(context);
        return continuation(requestStream, responseStream, context);
    }

    private void Admit(ServerCallContext context)
    {
        if (s_open.Any(prefix => context.Method.StartsWith(prefix, StringComparison.Ordinal)))
        {
            return;
        }

        var caller = new Caller(Namespaces.Default, IsAdmin: true);
        if (keys.Enabled)
        {
            var authorization = context.RequestHeaders.Get(Namespaces.Authorization)?.Value;
            if (authorization is null || !authorization.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase))
            {
                throw Reject(context, StatusCode.Unauthenticated, MissingKey);
            }

            caller = keys.Find(authorization[Bearer.Length..].Trim()) ?? throw Reject(context, StatusCode.Unauthenticated, UnknownKey);
        }

        var requested = context.RequestHeaders.Get(Namespaces.Header)?.Value.Trim();
        if (requested is not null && requested != Namespaces.Shared && requested != caller.Tenant)
        {
            throw Reject(context, StatusCode.PermissionDenied,
                $"{Namespaces.Header}: '{requested}' is not a namespace this key may use: a key works in its own tenant; "
                + $"give '{Namespaces.Shared}' (read by every key, written by admin keys) or leave the header out");
        }

        // Reads fall back to the shared namespace where it can hold blocks: this node has held some, or peers may.
        var readsShared = store.HasTenant(Namespaces.Shared) || (keys.Enabled && cluster.Node is not null);
        CallScope.Attach(context, caller, requested, readsShared);
    }

    private RpcException Reject(ServerCallContext context, StatusCode code, string detail)
    {
        Log.Rejected(logger, LogLevel.Information, context.Method, context.Peer, code, detail);
        return new RpcException(new Status(code, detail));
    }
}
