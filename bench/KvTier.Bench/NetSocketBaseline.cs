using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace KvTier.Bench;

/// <summary>
/// The ceiling: a plain loopback socket copy of the same bytes in the same request pattern, from a
/// <see cref="NetSocketServer"/>; clients read into one reused buffer each. No framing, no verification, no store:
/// what the data plane pays beyond this is its own cost.
/// </summary>
internal sealed class NetSocketBaseline : IAsyncDisposable
{
    private readonly Socket[] _clients;
    private readonly byte[][] _buffers;

    private NetSocketBaseline(Socket[] clients, int blockBytes)
    {
        _clients = clients;
        _buffers = clients.Select(_ => GC.AllocateArray<byte>(blockBytes, pinned: true)).ToArray();
    }

    /// <summary>Opens <paramref name="connections"/> client connections to the server at <paramref name="server"/>.</summary>
    public static async Task<NetSocketBaseline> ConnectAsync(IPEndPoint server, int blockBytes, int connections, CancellationToken ct)
    {
        var clients = new Socket[connections];
        try
        {
            for (var i = 0; i < connections; i++)
            {
                clients[i] = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await clients[i].ConnectAsync(server, ct).ConfigureAwait(false);
            }
        }
        catch
        {
            foreach (var client in clients)
            {
                client?.Dispose();
            }

            throw;
        }

        return new NetSocketBaseline(clients, blockBytes);
    }

    /// <summary>Fetches blocks <paramref name="first"/> .. +<paramref name="count"/> on connection <paramref name="connection"/>.</summary>
    public async Task FetchAsync(int connection, int first, int count, CancellationToken ct)
    {
        var socket = _clients[connection];
        var request = new byte[NetSocketServer.RequestBytes];
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
    public ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }

        return ValueTask.CompletedTask;
    }
}
