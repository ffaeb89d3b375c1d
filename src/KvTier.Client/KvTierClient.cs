using System.Buffers;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using KvTier.Core;
using Rpc = KvTier.Protos.V1;

namespace KvTier.Client;

/// <summary>
/// .NET client of a KvTier sidecar over gRPC (h2c for <c>http://</c> addresses, TLS for <c>https://</c>). Blocks travel in 1 MiB chunks with an
/// XxHash3 checksum; received blocks are verified before any byte is handed out. Thread-safe; share one per server.
/// Errors other than "not found" surface as <see cref="RpcException"/> with the server's status and message.
/// </summary>
public sealed partial class KvTierClient : IDisposable
{
    /// <summary>Payload bytes per Put message (the server accepts up to 1 MiB plus the header).</summary>
    public const int ChunkBytes = 1 << 20;

    // Wide flow-control windows keep 1 MiB chunks moving without a window update per chunk.
    private const int StreamWindowBytes = 8 << 20;

    private readonly GrpcChannel _channel;
    private readonly Rpc.KvTier.KvTierClient _rpc;
    private readonly Metadata? _headers;

    /// <summary>Connects (lazily) to <paramref name="server"/>, e.g. <c>http://127.0.0.1:50051</c>.</summary>
    /// <param name="server">An absolute http:// (h2c) or https:// address.</param>
    /// <param name="apiKey">Sent as <c>authorization: Bearer KEY</c> on every call when set.</param>
    public KvTierClient(Uri server, string? apiKey = null)
        : this(server, new KvTierClientOptions { ApiKey = apiKey })
    {
    }

    /// <summary>Connects (lazily) to <paramref name="server"/> with an API key and, for https://, extra trusted certificates.</summary>
    /// <param name="server">An absolute http:// (h2c) or https:// (HTTP/2 over TLS) address.</param>
    /// <param name="options">The API key and trust; see <see cref="KvTierClientOptions"/>.</param>
    public KvTierClient(Uri server, KvTierClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(options);
        if (!server.IsAbsoluteUri || (server.Scheme != Uri.UriSchemeHttp && server.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"'{server}' is not a server address: give http://host:port or https://host:port (e.g. http://127.0.0.1:50051).", nameof(server));
        }

        Server = server;
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            InitialHttp2StreamWindowSize = StreamWindowBytes,
        };
        if (options.TrustedCertificates is { Count: > 0 } anchors)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = CertificateTrust.Validator(anchors);
        }

        _channel = GrpcChannel.ForAddress(server, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
        _rpc = new Rpc.KvTier.KvTierClient(_channel);
        if (!string.IsNullOrEmpty(options.ApiKey) || !string.IsNullOrEmpty(options.Namespace))
        {
            _headers = [];
            if (!string.IsNullOrEmpty(options.ApiKey))
            {
                _headers.Add("authorization", "Bearer " + options.ApiKey);
            }

            if (!string.IsNullOrEmpty(options.Namespace))
            {
                _headers.Add("kvtier-namespace", options.Namespace);
            }
        }
    }

    /// <summary>The server this client talks to.</summary>
    public Uri Server { get; }

    /// <summary>Stores a block (replacing any block with the same key).</summary>
    /// <param name="key">The block's key.</param>
    /// <param name="payload">The block's bytes; not copied, so keep it unchanged until the task completes.</param>
    /// <param name="ttl">Time to live (rounded up to whole seconds), null for none.</param>
    /// <param name="geometryFingerprint">The model geometry's fingerprint, 0 when unspecified.</param>
    /// <param name="ct">Cancels the call.</param>
    public async Task PutAsync(BlockKey key, ReadOnlyMemory<byte> payload, TimeSpan? ttl = null, ulong geometryFingerprint = 0,
        CancellationToken ct = default)
    {
        var header = new Rpc.BlockHeader
        {
            Key = KeyBytes(key),
            Length = (ulong)payload.Length,
            Checksum = BlockChecksum.Compute(payload.Span),
            GeometryFingerprint = geometryFingerprint,
            TtlSeconds = TtlSeconds(ttl),
        };
        using var call = _rpc.Put(Options(ct));
        try
        {
            var offset = 0;
            do
            {
                var n = Math.Min(ChunkBytes, payload.Length - offset);
                var message = new Rpc.PutRequest { Chunk = UnsafeByteOperations.UnsafeWrap(payload.Slice(offset, n)) };
                if (offset == 0)
                {
                    message.Header = header;
                }

                // The message is serialized before WriteAsync completes, so wrapping the caller's memory is safe.
                await call.RequestStream.WriteAsync(message, ct).ConfigureAwait(false);
                offset += n;
            }
            while (offset < payload.Length);

            await call.RequestStream.CompleteAsync().ConfigureAwait(false);
        }
        catch (RpcException)
        {
            // The server ended the call early (bad header, too large): its status, with its message, is the answer.
            await call.ResponseAsync.ConfigureAwait(false);
            throw;
        }

        await call.ResponseAsync.ConfigureAwait(false);
    }

    /// <summary>Fetches a verified block; null when the server does not have it.</summary>
    /// <exception cref="BlockIntegrityException">The block arrived with a wrong length or checksum.</exception>
    public async Task<byte[]?> GetAsync(BlockKey key, CancellationToken ct = default)
    {
        var writer = new ExactArrayWriter();
        return await ReceiveAsync(key, writer, ct).ConfigureAwait(false) ? writer.Array : null;
    }

    /// <summary>
    /// Fetches a verified block into <paramref name="destination"/> (one <c>GetMemory</c> of the block's size; advanced only
    /// once the checksum matched). False when the server does not have it.
    /// </summary>
    /// <exception cref="BlockIntegrityException">The block arrived with a wrong length or checksum (nothing was advanced).</exception>
    public Task<bool> GetAsync(BlockKey key, IBufferWriter<byte> destination, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return ReceiveAsync(key, destination, ct);
    }

    /// <summary>
    /// Fetches a verified block and writes it to <paramref name="destination"/>; nothing is written unless the whole block
    /// verified. False when the server does not have it.
    /// </summary>
    /// <exception cref="BlockIntegrityException">The block arrived with a wrong length or checksum (nothing was written).</exception>
    public async Task<bool> GetAsync(BlockKey key, Stream destination, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        using var buffer = new PooledArrayWriter();
        if (!await ReceiveAsync(key, buffer, ct).ConfigureAwait(false))
        {
            return false;
        }

        await destination.WriteAsync(buffer.WrittenMemory, ct).ConfigureAwait(false);
        return true;
    }

    /// <inheritdoc/>
    public void Dispose() => _channel.Dispose();

    private CallOptions Options(CancellationToken ct) => new(headers: _headers, cancellationToken: ct);

    private static ByteString KeyBytes(in BlockKey key) => ByteString.CopyFrom(key.AsSpan());

    private static uint TtlSeconds(TimeSpan? ttl)
    {
        if (ttl is not { } t)
        {
            return 0;
        }

        // Round up: a sub-second TTL must not become 0, which means "never expires".
        var seconds = Math.Ceiling(t.TotalSeconds);
        return t > TimeSpan.Zero && seconds <= uint.MaxValue
            ? (uint)seconds
            : throw new ArgumentOutOfRangeException(nameof(ttl), t, $"a TTL must be positive and at most {uint.MaxValue} seconds; pass null for no expiry.");
    }
}
