using Grpc.Health.V1;
using Grpc.HealthCheck;
using KvTier.Core;
using KvTier.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KvTier.Server;

/// <summary>
/// One running sidecar: the block store and a Kestrel host serving <c>kvtier.v1.KvTier</c>, <c>grpc.health.v1.Health</c>
/// and server reflection over HTTP/2 cleartext. Used by <c>kvtier serve</c> and by tests (port 0).
/// </summary>
public sealed class KvTierServer : IAsyncDisposable
{
    private static readonly string s_serviceName = Protos.V1.KvTier.Descriptor.FullName;

    private readonly WebApplication _app;
    private readonly BlockStore _store;
    private readonly ClusterParts _cluster;
    private readonly HealthServiceImpl _health;
    private readonly ILogger _logger;
    private int _disposed;

    private KvTierServer(WebApplication app, BlockStore store, ClusterParts cluster, HealthServiceImpl health, ServerOptions options, Uri address,
        ILogger logger)
    {
        _app = app;
        _store = store;
        _cluster = cluster;
        _health = health;
        Options = options;
        Address = address;
        _logger = logger;
    }

    /// <summary>The address clients use, with the port actually bound (e.g. <c>http://127.0.0.1:41234</c>).</summary>
    public Uri Address { get; }

    /// <summary>The local block store.</summary>
    public IBlockStore Store => _store;

    /// <summary>The cluster side (data plane, membership, replication); empty parts on a single node.</summary>
    public ClusterRuntime Cluster => _cluster.Runtime;

    /// <summary>The options the server runs with.</summary>
    public ServerOptions Options { get; }

    /// <summary>
    /// Validates <paramref name="options"/>, creates the store (it preallocates its memory: about 2 s per GiB), starts
    /// listening and reports SERVING on the health service. Throws <see cref="ArgumentException"/> for bad options.
    /// </summary>
    public static async Task<KvTierServer> StartAsync(ServerOptions options, ILoggerFactory? loggerFactory = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        loggerFactory ??= NullLoggerFactory.Instance;
        var logger = loggerFactory.CreateLogger<KvTierServer>();
        WarnUnavailable(options, logger);
        // Asking for CUDA on a node without a GPU is a configuration error: say so before allocating anything.
        var accelerator = Transfer.AcceleratorChoice.Resolve(Transfer.AcceleratorChoice.Parse(options.Accelerator));
        Log.Accelerator(logger, accelerator.ToString().ToLowerInvariant());

        Log.CreatingStore(logger, options.Memory, options.MaxBlock, options.SsdDir ?? "none");
        var store = new BlockStore(options.ToStoreOptions(), TimeProvider.System, loggerFactory.CreateLogger<BlockStore>());
        WebApplication? app = null;
        var cluster = new ClusterParts();
        try
        {
            cluster.BindDataPlane(options, store, loggerFactory);
            app = ServerHost.Build(options, store, cluster.Runtime, loggerFactory);
            _ = app.Services.GetRequiredService<Transfer.StagingArena>(); // preallocate staging before SERVING
            var health = app.Services.GetRequiredService<HealthServiceImpl>();
            health.SetStatus("", HealthCheckResponse.Types.ServingStatus.NotServing);
            health.SetStatus(s_serviceName, HealthCheckResponse.Types.ServingStatus.NotServing);
            await app.StartAsync(ct).ConfigureAwait(false);
            var address = BoundAddress(app);
            // Joining may refuse (another cluster's seed): then the node must not serve at all.
            await cluster.JoinAsync(options, store, address, loggerFactory, ct).ConfigureAwait(false);
            // Serving only now: the store is allocated, Kestrel accepts connections and the node has joined.
            health.SetStatus("", HealthCheckResponse.Types.ServingStatus.Serving);
            health.SetStatus(s_serviceName, HealthCheckResponse.Types.ServingStatus.Serving);
            Log.Listening(logger, address.GetLeftPart(UriPartial.Authority), options.NodeId, options.Memory, options.MaxBlock, BlockHasher.SeedFingerprintOf(options.HashSeed));
            return new KvTierServer(app, store, cluster, health, options, address, logger);
        }
        catch
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            if (app is not null)
            {
                await app.DisposeAsync().ConfigureAwait(false);
            }

            store.Dispose();
            throw;
        }
    }

    /// <summary>Completes when the host is shutting down (SIGTERM, Ctrl+C, or <see cref="StopAsync"/>).</summary>
    public Task WaitForShutdownAsync() => _app.WaitForShutdownAsync();

    /// <summary>Reports NOT_SERVING, then stops accepting calls and drains those in flight.</summary>
    public async Task StopAsync(CancellationToken ct = default)
    {
        Log.Stopping(_logger);
        _health.SetStatus("", HealthCheckResponse.Types.ServingStatus.NotServing);
        _health.SetStatus(s_serviceName, HealthCheckResponse.Types.ServingStatus.NotServing);
        await _app.StopAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Stops the host, then frees the store.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await StopAsync().ConfigureAwait(false);
        }
        finally
        {
            await _cluster.DisposeAsync().ConfigureAwait(false);
            await _app.DisposeAsync().ConfigureAwait(false);
            _store.Dispose();
        }
    }

    private static void WarnUnavailable(ServerOptions options, ILogger logger)
    {
        foreach (var group in options.UnavailableSettings().GroupBy(u => u.Feature))
        {
            Log.FeatureUnavailable(logger, string.Join(", ", group.Select(u => u.Setting.Display)), group.Key);
        }
    }

    private static Uri BoundAddress(WebApplication app)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
        var first = addresses?.FirstOrDefault()
            ?? throw new InvalidOperationException("Kestrel started but reports no bound address.");
        return new Uri(first);
    }
}
