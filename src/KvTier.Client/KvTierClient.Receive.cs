using System.Buffers;
using Grpc.Core;
using KvTier.Core;
using Rpc = KvTier.Protos.V1;

namespace KvTier.Client;

public sealed partial class KvTierClient
{
    // Reads the header, then the chunks into one GetMemory of the block's size; verifies; only then advances.
    private async Task<bool> ReceiveAsync(BlockKey key, IBufferWriter<byte> destination, CancellationToken ct)
    {
        using var call = _rpc.Get(new Rpc.GetRequest { Key = KeyBytes(key) }, Options(ct));
        var stream = call.ResponseStream;
        try
        {
            if (!await stream.MoveNext(ct).ConfigureAwait(false))
            {
                throw new BlockIntegrityException(key, "the server ended the reply before the header");
            }
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            return false;
        }

        var header = stream.Current.Header ?? throw new BlockIntegrityException(key, "the first message had no header");
        if (header.Length > int.MaxValue || !header.HasChecksum)
        {
            throw new BlockIntegrityException(key, $"the header is unusable (length {header.Length}, checksum {(header.HasChecksum ? "present" : "missing")})");
        }

        var length = (int)header.Length;
        var memory = destination.GetMemory(length)[..length];
        var received = Append(key, memory, 0, stream.Current.Chunk);
        while (await stream.MoveNext(ct).ConfigureAwait(false))
        {
            received = Append(key, memory, received, stream.Current.Chunk);
        }

        if (received != length)
        {
            throw new BlockIntegrityException(key, $"{received} bytes arrived but the header says {length}");
        }

        var actual = BlockChecksum.Compute(memory.Span);
        if (actual != header.Checksum)
        {
            throw new BlockIntegrityException(key, $"the bytes hash to {actual:x16} but the header says {header.Checksum:x16}");
        }

        destination.Advance(length);
        return true;
    }

    private static int Append(BlockKey key, Memory<byte> block, int received, Google.Protobuf.ByteString chunk)
    {
        if (chunk.Length > block.Length - received)
        {
            throw new BlockIntegrityException(key, $"more bytes arrived than the header's {block.Length}");
        }

        chunk.Span.CopyTo(block.Span[received..]);
        return received + chunk.Length;
    }
}
