using System.Buffers.Binary;
using System.Text;
using KvTier.Core;

namespace KvTier.Cluster.DataPlane;

/*
 KvTier peer data plane, protocol version 1: bulk KV blocks between sidecars over TCP (gRPC stays the control API).
 All integers are little-endian. Strings are u16 byte length + UTF-8.

 Frame = 16-byte header + body:
   0  u32 body length      bytes after the header
   4  u8  type             FrameType below; anything else is a protocol violation
   5  u8  flags            0 (reserved)
   6  u16 reserved         0
   8  u32 request id       chosen by the client per request; every response frame echoes it
   12 u32 index            GET responses: the key's position in the request; 0 elsewhere

 Handshake (first frames on a connection, both directions):
   client -> Hello    u32 magic 'KVTP' | u16 version | u16 flags (bit 0: has a cluster secret) | 32-byte nonce |
                      str cluster | str seed fingerprint (BlockHasher.SeedFingerprintOf) | str node id
   server -> Hello    same layout, sent only when it accepts the client's Hello; otherwise Error, then close
   with a secret (both sides have one):
   client -> Auth     32 bytes HMAC-SHA256(secret, "kvtier-peer-v1/client" | client nonce | server nonce)
   server -> Auth     32 bytes HMAC-SHA256(secret, "kvtier-peer-v1/server" | server nonce | client nonce), or Error
   The role label keeps one side's proof from being reflected back as the other's; fresh nonces stop replays.
   Version, cluster, seed fingerprint and secret presence must match; a mismatch is refused with an Error frame whose
   text names what differs and the fix. The client raises it as PeerHandshakeException.

 Error (either side, any time; the sender closes afterwards):  u16 PeerRefusal code | UTF-8 text (rest of body)

 Requests (one at a time per connection; a client pools connections for concurrency):
   GetRequest     str tenant | u32 count | count x 32-byte key
     -> per key, in request order:  Block (64-byte BlockHeader | payload)  or  BlockStatus (u8 BlockStatus: NotFound,
        Corrupt, TooLarge). The BlockHeader carries payload length and XxHash3 checksum; receivers verify both.
   ExistsRequest  str tenant | u32 count | count x 32-byte key
     -> ExistsResponse  u32 count | count x u8 (1 present, 0 absent)
   PutRequest     str tenant | 32-byte key | i64 ttl ms (0: none) | 64-byte BlockHeader | payload
     -> PutResponse  u8 BlockStatus (Ok, Corrupt: checksum mismatch, nothing stored; TooLarge)

 Payloads are always the tail of their frame, so a receiver can move them without parsing them, and so bulk bytes
 can skip the pipe: a receiver takes what the pipe already buffered and reads the rest straight into its destination.
*/

/// <summary>Constants and small codecs of the peer data-plane protocol (see the comment at the top of this file).</summary>
internal static class PeerProtocol
{
    /// <summary>Protocol version spoken by this build.</summary>
    public const ushort Version = 1;

    /// <summary>'KVTP' read little-endian: the first bytes of a Hello, so a stray client is recognised at once.</summary>
    public const uint Magic = 0x5054564B;

    /// <summary>Bytes of a handshake nonce and of an HMAC-SHA256 proof.</summary>
    public const int NonceBytes = 32;

    /// <summary>Keys per GET or EXISTS request; clients split longer batches.</summary>
    public const int MaxKeysPerRequest = 16384;

    /// <summary>Largest body of a frame without a payload (requests, Hello, Error).</summary>
    public const int MaxControlBody = 64 + 4 + (MaxKeysPerRequest * BlockKey.Size) + 1024;

    /// <summary>Largest string in a Hello (cluster name, fingerprint, node id).</summary>
    public const int MaxNameBytes = 256;

    /// <summary>Largest tenant name, as the store allows.</summary>
    public const int MaxTenantBytes = Store.StoreLayout.MaxTenantBytes;

    /// <summary>Bytes before a GET response's payload on the wire: frame header and block header.</summary>
    public const int BlockPrefix = FrameHeader.Size + BlockHeader.Size;

    /// <summary>Bytes a string occupies when encoded.</summary>
    public static int SizeOf(string value) => 2 + Encoding.UTF8.GetByteCount(value);

    /// <summary>Writes a length-prefixed string; returns the bytes written.</summary>
    public static int WriteString(Span<byte> destination, string value)
    {
        var n = Encoding.UTF8.GetBytes(value, destination[2..]);
        BinaryPrimitives.WriteUInt16LittleEndian(destination, (ushort)n);
        return 2 + n;
    }

    /// <summary>Reads a length-prefixed string of at most <paramref name="maxBytes"/>; advances <paramref name="offset"/>.</summary>
    public static string ReadString(ReadOnlySpan<byte> source, ref int offset, int maxBytes, string what)
    {
        if (source.Length - offset < 2)
        {
            throw new PeerProtocolException($"the {what} is truncated");
        }

        var n = BinaryPrimitives.ReadUInt16LittleEndian(source[offset..]);
        if (n > maxBytes || source.Length - offset - 2 < n)
        {
            throw new PeerProtocolException($"the {what} is {n} bytes: longer than {maxBytes} or than its frame");
        }

        var value = Encoding.UTF8.GetString(source.Slice(offset + 2, n));
        offset += 2 + n;
        return value;
    }

    /// <summary>Reads and checks a tenant name as the store will accept it.</summary>
    public static string ReadTenant(ReadOnlySpan<byte> source, ref int offset)
    {
        var tenant = ReadString(source, ref offset, MaxTenantBytes, "tenant");
        return tenant.Length == 0 ? throw new PeerProtocolException("the tenant is empty") : tenant;
    }

    /// <summary>Checks a tenant before it is sent, so a bad one fails the call instead of the connection.</summary>
    public static void ValidateTenant(string tenant)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenant);
        if (Encoding.UTF8.GetByteCount(tenant) > MaxTenantBytes)
        {
            throw new ArgumentException($"tenant '{tenant}' is longer than {MaxTenantBytes} UTF-8 bytes.", nameof(tenant));
        }
    }

    /// <summary>Body of a GET or EXISTS request.</summary>
    public static int KeyRequestSize(string tenant, int count) => SizeOf(tenant) + 4 + (count * BlockKey.Size);

    /// <summary>Writes a GET or EXISTS request body for keys[start..start+count].</summary>
    public static void WriteKeyRequest(Span<byte> body, string tenant, IReadOnlyList<BlockKey> keys, int start, int count)
    {
        var offset = WriteString(body, tenant);
        BinaryPrimitives.WriteInt32LittleEndian(body[offset..], count);
        offset += 4;
        for (var i = 0; i < count; i++, offset += BlockKey.Size)
        {
            keys[start + i].AsSpan().CopyTo(body[offset..]);
        }
    }

    /// <summary>Parses a GET or EXISTS request body; returns the tenant and where the keys start.</summary>
    public static string ReadKeyRequest(ReadOnlySpan<byte> body, out int keysOffset, out int count)
    {
        var offset = 0;
        var tenant = ReadTenant(body, ref offset);
        if (body.Length - offset < 4)
        {
            throw new PeerProtocolException("the key count is truncated");
        }

        count = BinaryPrimitives.ReadInt32LittleEndian(body[offset..]);
        keysOffset = offset + 4;
        if (count is < 0 or > MaxKeysPerRequest || body.Length - keysOffset != count * BlockKey.Size)
        {
            throw new PeerProtocolException($"the request holds {count} keys in a body of {body.Length} bytes (at most {MaxKeysPerRequest} keys)");
        }

        return tenant;
    }

    /// <summary>Reads a status byte a peer sent, accepting only the statuses the protocol defines for it.</summary>
    public static BlockStatus ReadStatus(byte value, bool okAllowed) => (BlockStatus)value switch
    {
        BlockStatus.Ok when okAllowed => BlockStatus.Ok,
        BlockStatus.NotFound or BlockStatus.Corrupt or BlockStatus.TooLarge or BlockStatus.Expired or BlockStatus.GeometryMismatch
            => (BlockStatus)value,
        _ => throw new PeerProtocolException($"status byte {value} is not valid here"),
    };
}
