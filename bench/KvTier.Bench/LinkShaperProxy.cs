using System.Net;
using System.Net.Sockets;

namespace KvTier.Bench;

/// <summary>
/// A TCP proxy on 127.0.0.1 (a free port) that makes loopback look like <see cref="LinkSpec"/>: every byte to and
/// from the target passes a token bucket at the link's rate (one per direction, shared by all connections, burst
/// <see cref="LinkSpec.BurstBytes"/>) and waits RTT/2 more, so a request and its response see one RTT on top of the
/// serialisation time. Bytes are forwarded unchanged. Each accepted connection gets its own connection to the target.
/// </summary>
public sealed class LinkShaperProxy : IAsyncDisposable, IDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly IPEndPoint _target;
    private readonly LinkShaperBucket _up;
    private readonly LinkShaperBucket _down;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Connection> _connections = [];
    private readonly Task _acceptLoop;
    private int _disposed;
    private long _closedUp;
    private long _closedDown;

    /// <summary>Starts listening and forwarding to <paramref name="target"/> through <paramref name="link"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="link"/> is <c>local</c>: there is nothing to shape.</exception>
    public LinkShaperProxy(IPEndPoint target, LinkSpec link)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(link);
        if (link.IsLocal)
        {
            throw new ArgumentException("a local link needs no proxy: connect to the target directly.", nameof(link));
        }

        _target = target;
        Link = link;
        _up = new LinkShaperBucket(link.BytesPerSecond, link.BurstBytes);
        _down = new LinkShaperBucket(link.BytesPerSecond, link.BurstBytes);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(64);
        Endpoint = (IPEndPoint)_listener.LocalEndPoint!;
        _acceptLoop = AcceptLoopAsync();
    }

    /// <summary>Where clients connect.</summary>
    public IPEndPoint Endpoint { get; }

    /// <summary>The emulated link.</summary>
    public LinkSpec Link { get; }

    /// <summary>Bytes forwarded from clients to the target, all connections.</summary>
    public long BytesToTarget
    {
        get
        {
            lock (_connections)
            {
                return _closedUp + _connections.Sum(c => c.Up.Forwarded);
            }
        }
    }

    /// <summary>Bytes forwarded from the target to clients, all connections.</summary>
    public long BytesFromTarget
    {
        get
        {
            lock (_connections)
            {
                return _closedDown + _connections.Sum(c => c.Down.Forwarded);
            }
        }
    }

    /// <summary>Stops listening, closes every proxied connection and waits for its threads.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stop.Cancel();
        _listener.Dispose();
        try
        {
            _acceptLoop.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            // Stopped while connecting to the target.
        }

        Connection[] open;
        lock (_connections)
        {
            open = [.. _connections];
        }

        foreach (var connection in open)
        {
            connection.Close();
        }

        foreach (var connection in open)
        {
            connection.Join();
        }

        _stop.Dispose();
    }

    /// <inheritdoc cref="Dispose"/>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            client.NoDelay = true;
            try
            {
                await server.ConnectAsync(_target, _stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                // Target gone: the client sees its connection close, as it would if the peer refused it.
                client.Dispose();
                server.Dispose();
                continue;
            }

            var connection = new Connection(this, client, server);
            lock (_connections)
            {
                _connections.Add(connection);
            }

            connection.Start();
        }
    }

    private void Closed(Connection connection)
    {
        lock (_connections)
        {
            if (_connections.Remove(connection))
            {
                _closedUp += connection.Up.Forwarded;
                _closedDown += connection.Down.Forwarded;
            }
        }
    }

    /// <summary>One client connection and its connection to the target: a shaped pipe each way.</summary>
    private sealed class Connection
    {
        private readonly LinkShaperProxy _proxy;
        private readonly Socket _client;
        private readonly Socket _server;
        private readonly CancellationTokenSource _stop;
        private int _cleanEnds;
        private int _closed;
        private int _joined;

        public Connection(LinkShaperProxy proxy, Socket client, Socket server)
        {
            _proxy = proxy;
            _client = client;
            _server = server;
            _stop = CancellationTokenSource.CreateLinkedTokenSource(proxy._stop.Token);
            var name = $"link {client.RemoteEndPoint}";
            Up = new LinkShaperPipe(client, server, proxy._up, proxy.Link.OneWayDelay, name + " →", _stop.Token, Finished);
            Down = new LinkShaperPipe(server, client, proxy._down, proxy.Link.OneWayDelay, name + " ←", _stop.Token, Finished);
        }

        public LinkShaperPipe Up { get; }

        public LinkShaperPipe Down { get; }

        public void Start()
        {
            Up.Start();
            Down.Start();
        }

        /// <summary>Closes both sockets; the pipes' threads stop.</summary>
        public void Close()
        {
            if (Interlocked.Exchange(ref _closed, 1) != 0)
            {
                return;
            }

            _stop.Cancel();
            _client.Dispose();
            _server.Dispose();
            _proxy.Closed(this);
            // The threads are joined (and the rings returned) off the pipes' own threads.
            _ = Task.Run(Join);
        }

        /// <summary>Waits for the pipes' threads (after <see cref="Close"/>); safe to call more than once and at once.</summary>
        public void Join()
        {
            Up.Join();
            Down.Join();
            if (Interlocked.Exchange(ref _joined, 1) == 0)
            {
                _stop.Dispose();
            }
        }

        // Both directions ended cleanly (each side closed its sending half), or one failed: close the whole connection.
        private void Finished(Exception? failure)
        {
            if (failure is not null || Interlocked.Increment(ref _cleanEnds) == 2)
            {
                Close();
            }
        }
    }
}
