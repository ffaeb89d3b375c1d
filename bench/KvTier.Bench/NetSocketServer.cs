using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace KvTier.Bench;

/// <summary>
/// The socket baseline's server: answers "blocks i..i+n" (two little-endian int32s) by writing those blocks, one send
/// each, from pre-touched memory. No framing, no verification, no store. <c>bench net</c> runs it in a process of its
/// own (<c>kvtier bench socket-server</c>), as the data plane's server is, and once more inside the bench process.
/// </summary>
public sealed class NetSocketServer : IAsyncDisposable
{
    /// <summary>Bytes of one request.</summary>
    public const int RequestBytes = 8;

    private readonly NetBlocks _blocks;
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private readonly List<Task> _sessions = [];

    private NetSocketServer(NetBlocks blocks, Socket listener)
    {
        _blocks = blocks;
        _listener = listener;
        _accepting = AcceptAsync();
    }

    /// <summary>Where it listens.</summary>
    public IPEndPoint Endpoint => (IPEndPoint)_listener.LocalEndPoint!;

    /// <summary>Fills <paramref name="blocks"/> blocks of <paramref name="blockBytes"/> from <paramref name="seed"/> and listens on a free loopback port.</summary>
    public static NetSocketServer Start(int blocks, int blockBytes, int seed) => Start(new NetBlocks(blocks, blockBytes, seed));

    internal static NetSocketServer Start(NetBlocks blocks)
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(64);
        return new NetSocketServer(blocks, listener);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
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
                // The client went away or the server is stopping.
            }
        }
    }
}
