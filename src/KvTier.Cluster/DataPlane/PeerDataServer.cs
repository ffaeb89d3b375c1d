using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using KvTier.Store;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KvTier.Cluster.DataPlane;

/// <summary>
/// Serves an <see cref="IBlockStore"/> to peers over the KvTier peer protocol (see <see cref="PeerProtocol"/>): GET
/// batches streamed block after block, EXISTS batches and PUTs (replication). Each connection is served on its own;
/// a connection that breaks the protocol is closed without disturbing the others.
/// </summary>
public sealed class PeerDataServer : IAsyncDisposable
{
    private static readonly TimeSpan Linger = TimeSpan.FromSeconds(2);

    private readonly Socket _listener;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly ConcurrentDictionary<PeerServerSession, byte> _sessions = new();
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _acceptLoop;
    private int _disposed;

    /// <summary>Binds <paramref name="endpoint"/> (port 0 picks a free port) and starts accepting peers.</summary>
    public PeerDataServer(IPEndPoint endpoint, IBlockStore store, PeerDataOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Store = store;
        Options = options;
        Identity = options.Identity;
        Logger = logger ?? NullLogger.Instance;
        MaxBlockBytes = Math.Min(options.MaxBlockBytes, store.MaxBlockBytes);
        // Two buffers per concurrent GET; idle ones are kept up to a bound, so a burst does not pin memory forever.
        Buffers = new PinnedBufferPool(keepPerClass: Math.Min(2 * options.MaxConnections, 32));
        _listener = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            _listener.Bind(endpoint);
            _listener.Listen(512);
        }
        catch
        {
            _listener.Dispose();
            throw;
        }

        Endpoint = (IPEndPoint)_listener.LocalEndPoint!;
        PeerLog.Listening(Logger, Endpoint.ToString(), options.NodeId, options.ClusterName, options.ClusterSecret is null ? "off" : "on");
        _acceptLoop = AcceptLoopAsync();
    }

    /// <summary>The bound endpoint (with the actual port when 0 was asked for).</summary>
    public IPEndPoint Endpoint { get; }

    /// <summary>The options the server runs with.</summary>
    public PeerDataOptions Options { get; }

    internal IBlockStore Store { get; }

    internal PeerIdentity Identity { get; }

    internal ILogger Logger { get; }

    internal long MaxBlockBytes { get; }

    internal PinnedBufferPool Buffers { get; }

    internal PeerDataCounters Counters { get; } = new();

    /// <summary>A snapshot of the counters.</summary>
    public PeerDataStats GetStats() => Counters.Snapshot();

    /// <summary>Stops accepting, aborts open connections and waits for them to close.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _shutdown.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        foreach (var session in _sessions.Keys)
        {
            session.Abort();
        }

        if (_sessions.IsEmpty)
        {
            _drained.TrySetResult();
        }

        await _drained.Task.ConfigureAwait(false);
        _shutdown.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_shutdown.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(_shutdown.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                // A connection that failed while queued (reset, out of descriptors): the listener itself is fine.
                PeerLog.ConnectionEnded(Logger, "accept", e.Message);
                continue;
            }

            _ = ServeAsync(socket);
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        var session = new PeerServerSession(this, socket);
        _sessions.TryAdd(session, 0);
        var active = Counters.Opened();
        try
        {
            // Yield so the accept loop is not held up by the first synchronous part of a session.
            await Task.Yield();
            if (active > Options.MaxConnections)
            {
                PeerLog.Busy(Logger, session.Remote, active - 1, Options.MaxConnections);
                await session.RefuseAsync(PeerRefusal.Busy,
                    $"node '{Options.NodeId}' is at its limit of {Options.MaxConnections} peer connections: retry later or raise the limit",
                    Linger).ConfigureAwait(false);
                return;
            }

            await session.RunAsync(Linger).ConfigureAwait(false);
        }
        finally
        {
            Counters.Closed();
            _sessions.TryRemove(session, out _);
            if (_shutdown.IsCancellationRequested && _sessions.IsEmpty)
            {
                _drained.TrySetResult();
            }
        }
    }
}
