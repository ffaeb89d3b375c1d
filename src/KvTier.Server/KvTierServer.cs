using Grpc.HealthCheck;
using KvTier.Core;
using KvTier.Server.Auth;
using KvTier.Server.Operations;
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
/// and server reflection over HTTP/2 (cleartext, or TLS with <c>--tls-cert</c>), behind API keys when configured, plus
/// (with <c>--metrics</c>) an HTTP/1.1 operations endpoint serving <c>/metrics</c>, <c>/healthz</c> and <c>/readyz</c>.
/// Used by <c>kvtier serve</c> and by tests (port 0).
/// </summary>
public sealed class KvTierServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly BlockStore _store;
    private readonly ClusterParts _cluster;
    private readonly ServerReadiness _readiness;
    private readonly OperationsEndpoint? _operations;
    private readonly ILogger _logger;
    private readonly ServerCertificate? _certificate;
    private int _disposed;

    private KvTierServer(WebApplication app, BlockStore store, ClusterParts cluster, ServerReadiness readiness, OperationsEndpoint? operations,
        ServerCertificate? certificate, ServerOptions options, Uri address, ILogger logger)
    {
        _app = app;
        _certificate = certificate;
        _store = store;
        _cluster = cluster;
        _readiness = readiness;
        _operations = operations;
        Options = options;
        Address = address;
        _logger = logger;
    }

    /// <summary>The address clients use, with the port actually bound (e.g. <c>http://127.0.0.1:41234</c>; <c>https://</c> with TLS).</summary>
    public Uri Address { get; }

    /// <summary>The operations endpoint (<c>/metrics</c>, <c>/healthz</c>, <c>/readyz</c>) with its bound port; null without <c>--metrics</c>.</summary>
    public Uri? MetricsAddress => _operations?.Address;

    /// <summary>The local block store.</summary>
    public IBlockStore Store => _store;

    /// <summary>The cluster side (data plane, membership, replication); empty parts on a single node.</summary>
    public ClusterRuntime Cluster => _cluster.Runtime;

    /// <summary>The options the server runs with.</summary>
    public ServerOptions Options { get; }

    /// <summary>
    /// Validates <paramref name="options"/>, starts the operations endpoint (when configured), creates the store (it
    /// preallocates its memory: about 2 s per GiB), starts listening, joins the cluster and only then reports SERVING.
    /// Throws <see cref="ArgumentException"/> for bad options, <see cref="IOException"/> for an address that cannot be bound.
    /// </summary>
    public static Task<KvTierServer> StartAsync(ServerOptions options, ILoggerFactory? loggerFactory = null, CancellationToken ct = default) =>
        StartAsync(options, loggerFactory, operationsStarted: null, ct);

    /// <summary>
    /// <see cref="StartAsync(ServerOptions, ILoggerFactory?, CancellationToken)"/>, awaiting
    /// <paramref name="operationsStarted"/> with the operations endpoint's address once it listens and before the store is
    /// created (tests probe a node that is alive but not ready there).
    /// </summary>
    internal static async Task<KvTierServer> StartAsync(ServerOptions options, ILoggerFactory? loggerFactory, Func<Uri, Task>? operationsStarted,
        CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        loggerFactory ??= NullLoggerFactory.Instance;
        var logger = loggerFactory.CreateLogger<KvTierServer>();
        WarnUnavailable(options, logger);
        Exposure.Report(options, logger);
        // Asking for CUDA on a node without a GPU is a configuration error: say so before allocating anything.
        var accelerator = Transfer.AcceleratorChoice.Resolve(Transfer.AcceleratorChoice.Parse(options.Accelerator));
        Log.Accelerator(logger, accelerator.ToString().ToLowerInvariant());

        var metrics = new ServerMetrics(options.NodeId, options.BlockTokens);
        var readiness = new ServerReadiness(options.Cluster, options.IsClustered);
        OperationsEndpoint? operations = null;
        BlockStore? store = null;
        WebApplication? app = null;
        ServerCertificate? certificate = null;
        var cluster = new ClusterParts();
        try
        {
            certificate = ServerCertificate.Load(options.Tls);
            cluster.Runtime.UsePeerTls(options.Tls.Enabled, options.Tls.CaFile is { } ca ? TrustedCertificates.Load(ca) : null);
            if (options.MetricsEndPoint is { } metricsEndPoint)
            {
                // First, so that probes find a starting node alive (and not ready) while its memory is allocated.
                operations = await OperationsEndpoint.StartAsync(metricsEndPoint, metrics, readiness, loggerFactory, ct).ConfigureAwait(false);
                Log.OperationsListening(logger, operations.Address.GetLeftPart(UriPartial.Authority));
                if (operationsStarted is not null)
                {
                    await operationsStarted(operations.Address).ConfigureAwait(false);
                }
            }

            Log.CreatingStore(logger, options.Memory, options.MaxBlock, options.SsdDir ?? "none");
            store = new BlockStore(options.ToStoreOptions(), TimeProvider.System, loggerFactory.CreateLogger<BlockStore>());
            readiness.Enter(ServerPhase.StartingHost);
            try
            {
                cluster.BindDataPlane(options, store, loggerFactory);
            }
            catch (System.Net.Sockets.SocketException e)
            {
                throw new EndpointBindException(ServerSetting.Get(nameof(ServerOptions.DataListen)), new IOException($"could not bind {options.DataListen} ({e.Message}).", e));
            }

            app = ServerHost.Build(options, store, cluster.Runtime, metrics, loggerFactory, certificate);
            _ = app.Services.GetRequiredService<Transfer.StagingArena>(); // preallocate staging before SERVING
            readiness.Attach(app.Services.GetRequiredService<HealthServiceImpl>(), cluster.Runtime);
            // SIGTERM stops the host directly: report NOT_SERVING from its first moment, while calls drain.
            app.Lifetime.ApplicationStopping.Register(() => readiness.Enter(ServerPhase.Stopping));
            ScrapeCollector.Register(metrics, store, cluster.Runtime, app.Services.GetRequiredService<PlanningService>());
            try
            {
                await app.StartAsync(ct).ConfigureAwait(false);
            }
            catch (IOException e) when (e is not EndpointBindException)
            {
                throw new EndpointBindException(ServerSetting.Get(nameof(ServerOptions.Listen)), e);
            }

            var address = BoundAddress(app);
            // Joining may refuse (another cluster's seed): then the node must not serve at all.
            readiness.Enter(ServerPhase.Joining);
            await cluster.JoinAsync(options, store, address, loggerFactory, ct).ConfigureAwait(false);
            // Serving only now: the store is allocated, Kestrel accepts connections and the node has joined.
            readiness.Enter(ServerPhase.Serving);
            Log.Listening(logger, address.GetLeftPart(UriPartial.Authority), options.NodeId, options.Memory, options.MaxBlock, BlockHasher.SeedFingerprintOf(options.HashSeed));
            return new KvTierServer(app, store, cluster, readiness, operations, certificate, options, address, logger);
        }
        catch
        {
            certificate?.Dispose();
            readiness.Enter(ServerPhase.Stopping);
            await cluster.DisposeAsync().ConfigureAwait(false);
            if (app is not null)
            {
                await app.DisposeAsync().ConfigureAwait(false);
            }

            if (operations is not null)
            {
                await operations.DisposeAsync().ConfigureAwait(false);
            }

            store?.Dispose();
            throw;
        }
    }

    /// <summary>Completes when the host is shutting down (SIGTERM, Ctrl+C, or <see cref="StopAsync"/>).</summary>
    public Task WaitForShutdownAsync() => _app.WaitForShutdownAsync();

    /// <summary>
    /// Reports NOT_SERVING (gRPC health and <c>/readyz</c>), then stops accepting calls and drains those in flight. The
    /// operations endpoint keeps answering until <see cref="DisposeAsync"/>.
    /// </summary>
    public async Task StopAsync(CancellationToken ct = default)
    {
        Log.Stopping(_logger);
        _readiness.Enter(ServerPhase.Stopping);
        await _app.StopAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Stops the host, then the operations endpoint, then frees the store.</summary>
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
            if (_operations is not null)
            {
                await _operations.DisposeAsync().ConfigureAwait(false);
            }

            _store.Dispose();
            _certificate?.Dispose();
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
