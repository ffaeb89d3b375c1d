using System.Net;
using System.Net.Sockets;
using KvTier.Cluster.DataPlane;

namespace KvTier.Cluster.Tests;

/// <summary>
/// A frame-aware TCP proxy on loopback port 0 between a client and a server. It forwards every frame unchanged
/// unless told to flip a byte in the payload of the N-th frame of a type, or to stop forwarding (a hanging peer):
/// from the N-th frame of a type on, or everything from now on.
/// </summary>
internal sealed class FaultProxy : IAsyncDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly IPEndPoint _upstream;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<Socket> _sockets = [];
    private readonly List<Task> _pumps = [];
    private readonly int[] _seen = new int[256];
    private readonly Task _acceptLoop;
    private volatile int _corruptType = -1;
    private volatile int _corruptNth;
    private volatile int _hangType = -1;
    private volatile int _hangAt;
    private volatile bool _hangAll;

    public FaultProxy(IPEndPoint upstream)
    {
        _upstream = upstream;
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(64);
        Endpoint = (IPEndPoint)_listener.LocalEndPoint!;
        _acceptLoop = AcceptLoopAsync();
    }

    public IPEndPoint Endpoint { get; }

    /// <summary>Flips the last byte (a payload byte) of the <paramref name="nth"/> (1-based) frame of <paramref name="type"/>.</summary>
    public void CorruptPayload(FrameType type, int nth)
    {
        _corruptNth = nth;
        _corruptType = (int)type;
    }

    /// <summary>Stops forwarding in that direction when the <paramref name="nth"/> (1-based) frame of <paramref name="type"/> arrives.</summary>
    public void HangAt(FrameType type, int nth)
    {
        _hangAt = nth;
        _hangType = (int)type;
    }

    /// <summary>Closes every connection proxied so far, as a peer that restarted or dropped idle connections would.</summary>
    public void DropConnections()
    {
        lock (_sockets)
        {
            foreach (var socket in _sockets)
            {
                socket.Dispose();
            }

            _sockets.Clear();
        }
    }

    /// <summary>Stops forwarding any further frame in either direction.</summary>
    public void HangAll() => _hangAll = true;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _stopped.TrySetResult();
        _listener.Dispose();
        lock (_sockets)
        {
            foreach (var socket in _sockets)
            {
                socket.Dispose();
            }
        }

        await _acceptLoop;
        Task[] pumps;
        lock (_pumps)
        {
            pumps = [.. _pumps];
        }

        await Task.WhenAll(pumps);
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            client.NoDelay = true;
            lock (_sockets)
            {
                _sockets.Add(client);
                _sockets.Add(server);
            }

            try
            {
                await server.ConnectAsync(_upstream, _stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                client.Dispose();
                continue;
            }

            lock (_pumps)
            {
                _pumps.Add(PumpAsync(client, server));
                _pumps.Add(PumpAsync(server, client));
            }
        }
    }

    private async Task PumpAsync(Socket from, Socket to)
    {
        var header = new byte[FrameHeader.Size];
        var buffer = new byte[256 << 10];
        try
        {
            while (await ReadExactlyAsync(from, header))
            {
                var frame = FrameHeader.Read(header);
                var type = (int)frame.Type;
                var nth = Interlocked.Increment(ref _seen[type]);
                if (_hangAll || (_hangType == type && nth >= _hangAt))
                {
                    await _stopped.Task;
                    return;
                }

                await to.SendAsync(header, SocketFlags.None, _stop.Token);
                var flip = _corruptType == type && nth == _corruptNth;
                var remaining = frame.BodyLength;
                while (remaining > 0)
                {
                    var n = await from.ReceiveAsync(buffer.AsMemory(0, Math.Min(buffer.Length, remaining)), SocketFlags.None, _stop.Token);
                    if (n == 0)
                    {
                        return;
                    }

                    remaining -= n;
                    if (flip && remaining == 0)
                    {
                        buffer[n - 1] ^= 0x5A;
                    }

                    await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, _stop.Token);
                }
            }

            to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException or PeerProtocolException)
        {
            // The test is over or a side closed: the proxy just stops.
        }
    }

    private async Task<bool> ReadExactlyAsync(Socket socket, byte[] destination)
    {
        var filled = 0;
        while (filled < destination.Length)
        {
            var n = await socket.ReceiveAsync(destination.AsMemory(filled), SocketFlags.None, _stop.Token);
            if (n == 0)
            {
                return false;
            }

            filled += n;
        }

        return true;
    }
}
