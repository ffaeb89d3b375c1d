using KvTier.Store;
using Microsoft.Extensions.Hosting;

namespace KvTier.Server.Operations;

/// <summary>
/// Verifies the store's blocks in the background, <see cref="ServerOptions.ScrubRate"/> bytes each second: damage in a
/// block nobody reads is found and dropped before a peer or an engine asks for it.
/// </summary>
internal sealed class ScrubService(IBlockStore store, long bytesPerSecond, TimeProvider time) : BackgroundService
{
    // Made here, not in ExecuteAsync (which the host may start later): the first tick is one second after creation.
    private readonly PeriodicTimer _timer = new(TimeSpan.FromSeconds(1), time);

    public override void Dispose()
    {
        _timer.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (bytesPerSecond <= 0)
        {
            return;
        }

        try
        {
            while (await _timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                store.Scrub(bytesPerSecond);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
        catch (ObjectDisposedException)
        {
            // The store closed first during shutdown.
        }
    }
}
