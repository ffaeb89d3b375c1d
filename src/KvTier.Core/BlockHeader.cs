using System.Buffers.Binary;
using System.IO.Hashing;

namespace KvTier.Core;

/// <summary>
/// The 64-byte header stored in front of every block's payload, in the store and on the wire.
/// Layout (little-endian): magic u32 'KVTB' | version u16 | header size u16 | flags u32 | reserved u32 |
/// geometry fingerprint u64 | payload length u64 | payload checksum u64 (XxHash3) | created unix ms i64 |
/// expires unix ms i64 (0 = never) | header checksum u64 (XxHash3 of the 56 bytes before it).
/// </summary>
public readonly record struct BlockHeader(
    ulong GeometryFingerprint, long PayloadLength, ulong PayloadChecksum, long CreatedUnixMs, long ExpiresUnixMs)
{
    /// <summary>Header bytes.</summary>
    public const int Size = 64;

    /// <summary>'KVTB' read little-endian.</summary>
    public const uint Magic = 0x4254564B;

    /// <summary>Current format version.</summary>
    public const ushort Version = 1;

    private const int ExpiresOffset = 48;
    private const int ChecksumOffset = 56;

    /// <summary>True when the block has an expiry and it has passed.</summary>
    public bool IsExpired(long nowUnixMs) => ExpiresUnixMs != 0 && nowUnixMs >= ExpiresUnixMs;

    /// <summary>Builds the header of <paramref name="payload"/>, computing its checksum.</summary>
    public static BlockHeader For(ReadOnlySpan<byte> payload, ulong geometryFingerprint, long createdUnixMs, long expiresUnixMs = 0) =>
        new(geometryFingerprint, payload.Length, BlockChecksum.Compute(payload), createdUnixMs, expiresUnixMs);

    /// <summary>Writes the header (and its own checksum) into the first <see cref="Size"/> bytes.</summary>
    public void WriteTo(Span<byte> destination)
    {
        var d = destination[..Size];
        BinaryPrimitives.WriteUInt32LittleEndian(d, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(d[4..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(d[6..], Size);
        BinaryPrimitives.WriteUInt64LittleEndian(d[8..], 0);
        BinaryPrimitives.WriteUInt64LittleEndian(d[16..], GeometryFingerprint);
        BinaryPrimitives.WriteInt64LittleEndian(d[24..], PayloadLength);
        BinaryPrimitives.WriteUInt64LittleEndian(d[32..], PayloadChecksum);
        BinaryPrimitives.WriteInt64LittleEndian(d[40..], CreatedUnixMs);
        BinaryPrimitives.WriteInt64LittleEndian(d[ExpiresOffset..], ExpiresUnixMs);
        BinaryPrimitives.WriteUInt64LittleEndian(d[ChecksumOffset..], XxHash3.HashToUInt64(d[..ChecksumOffset]));
    }

    /// <summary>
    /// Rewrites only the expiry of a header already in place (Touch), keeping its checksum valid.
    /// </summary>
    public static void RewriteExpiry(Span<byte> header, long expiresUnixMs)
    {
        BinaryPrimitives.WriteInt64LittleEndian(header[ExpiresOffset..], expiresUnixMs);
        BinaryPrimitives.WriteUInt64LittleEndian(header[ChecksumOffset..], XxHash3.HashToUInt64(header[..ChecksumOffset]));
    }

    /// <summary>Parses and checks a header: magic, version, size and its own checksum.</summary>
    public static BlockStatus TryRead(ReadOnlySpan<byte> source, out BlockHeader header)
    {
        header = default;
        if (source.Length < Size)
        {
            return BlockStatus.Corrupt;
        }

        var s = source[..Size];
        if (BinaryPrimitives.ReadUInt32LittleEndian(s) != Magic
            || BinaryPrimitives.ReadUInt16LittleEndian(s[4..]) != Version
            || BinaryPrimitives.ReadUInt16LittleEndian(s[6..]) != Size
            || BinaryPrimitives.ReadUInt64LittleEndian(s[ChecksumOffset..]) != XxHash3.HashToUInt64(s[..ChecksumOffset]))
        {
            return BlockStatus.Corrupt;
        }

        header = new BlockHeader(
            BinaryPrimitives.ReadUInt64LittleEndian(s[16..]),
            BinaryPrimitives.ReadInt64LittleEndian(s[24..]),
            BinaryPrimitives.ReadUInt64LittleEndian(s[32..]),
            BinaryPrimitives.ReadInt64LittleEndian(s[40..]),
            BinaryPrimitives.ReadInt64LittleEndian(s[ExpiresOffset..]));
        return header.PayloadLength < 0 ? BlockStatus.Corrupt : BlockStatus.Ok;
    }

    /// <summary>
    /// Checks a whole record (header + payload) and copies the payload into <paramref name="destination"/>
    /// while hashing it. On anything but <see cref="BlockStatus.Ok"/> the caller must treat the destination
    /// bytes as garbage: they are never handed out.
    /// </summary>
    public static BlockStatus VerifyAndCopy(ReadOnlySpan<byte> record, Span<byte> destination, long nowUnixMs, out BlockHeader header)
    {
        var status = TryRead(record, out header);
        if (status != BlockStatus.Ok)
        {
            return status;
        }

        if (header.PayloadLength != record.Length - Size)
        {
            return BlockStatus.Corrupt;
        }

        if (header.IsExpired(nowUnixMs))
        {
            return BlockStatus.Expired;
        }

        if (destination.Length < header.PayloadLength)
        {
            return BlockStatus.BufferTooSmall;
        }

        return BlockChecksum.CopyAndCompute(record[Size..], destination) == header.PayloadChecksum
            ? BlockStatus.Ok
            : BlockStatus.Corrupt;
    }
}
