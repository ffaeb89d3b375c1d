using System.Buffers.Binary;

namespace KvTier.Cluster.DataPlane;

/// <summary>Frame types of the peer protocol (see <see cref="PeerProtocol"/>).</summary>
internal enum FrameType : byte
{
    /// <summary>Handshake: version, cluster, seed fingerprint, node id, nonce.</summary>
    Hello = 0x01,
    /// <summary>Handshake: HMAC-SHA256 proof of the cluster secret.</summary>
    Auth = 0x02,
    /// <summary>Refusal or violation: code and text; the sender closes afterwards.</summary>
    Error = 0x0F,
    /// <summary>GET batch request.</summary>
    GetRequest = 0x10,
    /// <summary>GET response: block header and payload.</summary>
    Block = 0x11,
    /// <summary>GET response: a key without a block (status byte).</summary>
    BlockStatus = 0x12,
    /// <summary>EXISTS batch request.</summary>
    ExistsRequest = 0x20,
    /// <summary>EXISTS response: one flag per key.</summary>
    ExistsResponse = 0x21,
    /// <summary>PUT request: tenant, key, TTL, block header and payload.</summary>
    PutRequest = 0x30,
    /// <summary>PUT response: status byte.</summary>
    PutResponse = 0x31,
}

/// <summary>The fixed 16-byte header in front of every frame.</summary>
internal readonly record struct FrameHeader(FrameType Type, int BodyLength, uint RequestId, int Index)
{
    /// <summary>Header bytes.</summary>
    public const int Size = 16;

    /// <summary>Writes the header into the first <see cref="Size"/> bytes.</summary>
    public void WriteTo(Span<byte> destination)
    {
        var d = destination[..Size];
        BinaryPrimitives.WriteInt32LittleEndian(d, BodyLength);
        d[4] = (byte)Type;
        d[5] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(d[6..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(d[8..], RequestId);
        BinaryPrimitives.WriteInt32LittleEndian(d[12..], Index);
    }

    /// <summary>Parses a header; anything malformed (unknown type, reserved bits, negative length) is a violation.</summary>
    public static FrameHeader Read(ReadOnlySpan<byte> source)
    {
        var length = BinaryPrimitives.ReadInt32LittleEndian(source);
        var type = (FrameType)source[4];
        if (!Enum.IsDefined(type) || source[5] != 0 || BinaryPrimitives.ReadUInt16LittleEndian(source[6..]) != 0 || length < 0)
        {
            throw new PeerProtocolException(
                $"malformed frame header (type 0x{source[4]:x2}, flags 0x{source[5]:x2}, length {length}): not a KvTier peer frame");
        }

        return new FrameHeader(type, length, BinaryPrimitives.ReadUInt32LittleEndian(source[8..]),
            BinaryPrimitives.ReadInt32LittleEndian(source[12..]));
    }
}
