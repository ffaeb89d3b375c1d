using Grpc.HealthCheck;
using KvTier.Server.Auth;
using KvTier.Server.Engine;
using KvTier.Server.Operations;
using KvTier.Store;
using KvTier.Transfer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace KvTier.Server;

/// <summary>
/// Builds the web host: Kestrel on one HTTP/2 endpoint (h2c, or TLS with a certificate), the gRPC services behind the
/// auth interceptor, nothing else (metrics have their own endpoint).
/// </summary>
internal static class ServerHost
{
    /// <summary>
    /// Largest message accepted: one 1 MiB payload chunk plus its header, and Lookups of 8192 keys (~280 KB) fit.
    /// Blocks never travel as one message, so this stays small whatever --max-block says.
    /// </summary>
    internal const int MaxReceiveMessageBytes = KvTierService.MaxChunkBytes + (64 << 10);

    // Flow-control windows: 1 MiB chunks stall on the 768 KiB default stream window (measured 0.46 GB/s with 16-32 MiB).
    private const int StreamWindowBytes = 8 << 20;
    private const int ConnectionWindowBytes = 32 << 20;

    public static WebApplication Build(ServerOptions options, BlockStore store, ClusterRuntime cluster, ServerMetrics metrics, ILoggerFactory loggerFactory,
        ServerCertificate? certificate)
    {
        // The empty builder reads no appsettings.json or ASPNETCORE_ variables: KvTier binds its own configuration.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(ServerHost).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.Http2.InitialStreamWindowSize = StreamWindowBytes;
            kestrel.Limits.Http2.InitialConnectionWindowSize = ConnectionWindowBytes;
            kestrel.Listen(options.ListenEndPoint, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                if (certificate is not null)
                {
                    // HTTP/2 over TLS (ALPN h2); the rest of the PEM file is sent as the chain.
                    listen.UseHttps(https =>
                    {
                        https.ServerCertificate = certificate.Leaf;
                        https.ServerCertificateChain = certificate.Chain;
                    });
                }
            });
        });

        var services = builder.Services;
        services.AddSingleton(loggerFactory);
        services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        services.AddSingleton<IBlockStore>(store);
        services.AddSingleton(options);
        services.AddSingleton(metrics);
        services.AddSingleton<KvTierService>();
        services.AddSingleton(cluster);
        services.AddSingleton(new PlanningService(TimeProvider.System));
        services.AddSingleton<ClusterService>();
        services.AddSingleton(_ => new StagingArena(options.StagingBytes));
        services.AddSingleton(sp => new PoolRegistry(loggerFactory.CreateLogger<PoolRegistry>()));
        services.AddSingleton(sp => new TransferPipeline(store, sp.GetRequiredService<StagingArena>(), metrics));
        services.AddSingleton<EngineService>();
        services.AddHostedService(_ => new ScrubService(store, options.ScrubBytesPerSecond, TimeProvider.System));
        services.AddSingleton<HealthServiceImpl>();
        services.AddSingleton(new ApiKeyRing(options.Auth));
        services.AddSingleton<AuthInterceptor>();
        services.AddGrpc(grpc =>
        {
            grpc.Interceptors.Add<AuthInterceptor>();
            grpc.MaxReceiveMessageSize = MaxReceiveMessageBytes;
            grpc.MaxSendMessageSize = MaxReceiveMessageBytes;
        });
        services.AddGrpcReflection();

        var app = builder.Build();
        app.MapGrpcService<KvTierService>();
        app.MapGrpcService<EngineService>();
        app.MapGrpcService<ClusterService>();
        app.MapGrpcService<HealthServiceImpl>();
        app.MapGrpcReflectionService();
        return app;
    }
}
