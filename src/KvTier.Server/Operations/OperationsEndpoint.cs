using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace KvTier.Server.Operations;

/// <summary>
/// The operations listener (<c>--metrics host:port</c>): a Kestrel endpoint of its own on HTTP/1.1, apart from the
/// gRPC port, serving <c>/metrics</c> (Prometheus text), <c>/healthz</c> (200 while the process runs) and
/// <c>/readyz</c> (200 when serving, else 503 with a one-line reason). It starts before the store is allocated, so
/// probes see a starting node as alive but not ready.
/// </summary>
internal sealed class OperationsEndpoint : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OperationsEndpoint(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    /// <summary>The bound address, e.g. <c>http://127.0.0.1:41235</c>.</summary>
    public Uri Address { get; }

    /// <summary>Binds and starts; a bind failure is an <see cref="EndpointBindException"/> naming <c>--metrics</c>.</summary>
    public static async Task<OperationsEndpoint> StartAsync(IPEndPoint endpoint, ServerMetrics metrics, ServerReadiness readiness,
        ILoggerFactory loggerFactory, CancellationToken ct)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(OperationsEndpoint).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(endpoint, listen => listen.Protocols = HttpProtocols.Http1);
        });
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        // The server stops this endpoint last (after draining gRPC calls), not on SIGTERM: /readyz says 503 meanwhile.
        builder.Services.AddSingleton<IHostLifetime, OwnedLifetime>();
        builder.Services.AddRouting();

        var app = builder.Build();
        app.MapGet("/healthz", context => Text(context, StatusCodes.Status200OK, "ok"));
        app.MapGet("/readyz", context =>
        {
            var ready = readiness.IsReady(out var reason);
            readiness.Publish(); // keep the gRPC health status in step with what probes are told
            return Text(context, ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable, reason);
        });
        app.MapMetrics("/metrics", metrics.Registry);
        try
        {
            await app.StartAsync(ct).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw new EndpointBindException(ServerSetting.Get(nameof(ServerOptions.Metrics)), e);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("Kestrel started the operations endpoint but reports no bound address.");
        return new OperationsEndpoint(app, new Uri(bound));
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await _app.StopAsync().ConfigureAwait(false);
        }
        finally
        {
            await _app.DisposeAsync().ConfigureAwait(false);
        }
    }

    // A lifetime that waits for no console signal: the owning KvTierServer decides when this endpoint stops.
    private sealed class OwnedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private static Task Text(HttpContext context, int status, string line)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        return context.Response.WriteAsync(line + "\n", context.RequestAborted);
    }
}
