using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace KvTier.Bench;

/// <summary>
/// The ceiling: a plain loopback socket copy of the same bytes in the same request pattern. A tiny in-process server
/// answers "blocks i..i+n" by writing them from the pre-touched block memory; clients read into one reused buffer each.
/// No framing, no verification, no store: what the data plane pays beyond this is its own cost.
/// </summary>
internal sealed class NetSocketBaseline : IAsyncDisposable
{
    private const int RequestBytes = 8;

    private readonly NetBlocks _blocks;
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private readonly List<Task> _sessions = [];
    private readonly Socket[] _clients;
    private readonly byte[][] _buffers;

    private NetSocketBaseline(NetBlocks blocks, Socket listener, Socket[] clients)
    {
        _blocks = blocks;
        _listener = listener;
        _clients = clients;
        _buffers = clients.Select(_ => GC.AllocateArray<byte>(blocks.BlockBytes, pinned: true)).ToArray();
        _accepting = AcceptAsync();
    }

    /// <summary>Starts the server on a free loopback port and opens <paramref name="connections"/> client connections.</summary>
    public static async Task<NetSocketBaseline> StartAsync(NetBlocks blocks, int connections, CancellationToken ct)
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(connections);
        var clients = new Socket[connections];
        var baseline = new NetSocketBaseline(blocks, listener, clients);
        for (var i = 0; i < connections; i++)
        {
            clients[i] = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await clients[i].ConnectAsync(listener.LocalEndPoint!, ct).ConfigureAwait(false);
        }

        return baseline;
    }

    /// <summary>Fetches blocks <paramref name="first"/> .. +<paramref name="count"/> on connection <paramref name="connection"/>.</summary>
    public async Task FetchAsync(int connection, int first, int count, CancellationToken ct)
    {
        var socket = _clients[connection];
        var request = new byte[RequestBytes];
        BinaryPrimitives.WriteInt32LittleEndian(request, first);
        BinaryPrimitives.WriteInt32LittleEndian(request.AsSpan(4), count);
        await socket.SendAsync(request, SocketFlags.None, ct).ConfigureAwait(false);
        var buffer = _buffers[connection];
        for (var i = 0; i < count; i++)
        {
            var filled = 0;
            while (filled < buffer.Length)
            {
                var n = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, ct).ConfigureAwait(false);
                filled += n > 0 ? n : throw new NetBenchException("the socket baseline's server closed a connection mid-block");
            }
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (var client in _clients)
        {
            client?.Dispose();
        }

        _listener.Dispose();
        await _accepting.ConfigureAwait(false); // after this, no session is added any more
        await Task.WhenAll(_sessions).ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
                socket.NoDelay = true;
                _sessions.Add(ServeAsync(socket));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        using (socket)
        {
            var request = new byte[RequestBytes];
            try
            {
                while (true)
                {
                    var filled = 0;
                    while (filled < RequestBytes)
                    {
                        var n = await socket.ReceiveAsync(request.AsMemory(filled), SocketFlags.None, _stop.Token).ConfigureAwait(false);
                        if (n == 0)
                        {
                            return;
                        }

                        filled += n;
                    }

                    var first = BinaryPrimitives.ReadInt32LittleEndian(request);
                    var count = BinaryPrimitives.ReadInt32LittleEndian(request.AsSpan(4));
                    for (var i = 0; i < count; i++)
                    {
                        // One send per block, as a server sends each block it read.
                        var block = _blocks.Block(first + i);
                        while (!block.IsEmpty)
                        {
                            var n = await socket.SendAsync(block, SocketFlags.None, _stop.Token).ConfigureAwait(false);
                            block = block[n..];
                        }
                    }
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // The client went away or the baseline is stopping.
            }
        }
    }
}
