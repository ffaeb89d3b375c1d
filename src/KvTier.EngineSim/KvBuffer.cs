using System.Runtime.InteropServices;
using KvTier.Core;

namespace KvTier.EngineSim;

/// <summary>
/// An engine's KV cache for one sequence: K and V of every layer for up to <see cref="CapacityTokens"/> tokens,
/// float32. Per layer, K is laid out [token][kvHead][headDim] and V likewise.
/// </summary>
/// <remarks>
/// A block (block b = tokens [b·blockTokens, (b+1)·blockTokens)) leaves and enters the buffer in the
/// <i>layer-major contiguous</i> layout: <c>[layer][K then V][token in block][kvHead][headDim]</c>, native
/// (little-endian) float32. Its size, <see cref="BlockBytes"/>, equals <see cref="ModelGeometry.BytesPerBlock"/>.
/// Not thread-safe.
/// </remarks>
public sealed class KvBuffer
{
    private readonly float[][] _keys;
    private readonly float[][] _values;

    /// <summary>Creates an empty (all-zero) buffer.</summary>
    /// <param name="geometry">The KV geometry; must be fp32, since the buffer holds float32 K/V.</param>
    /// <param name="capacityTokens">The most tokens the buffer holds.</param>
    public KvBuffer(ModelGeometry geometry, int capacityTokens)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        if (geometry.DType != KvDType.Fp32)
        {
            throw new ArgumentException(
                $"KvBuffer holds float32 K/V, but geometry '{geometry.Name}' is {geometry.DType}: "
                + "use geometry with KvDType.Fp32 (ReferenceModel.Geometry is).",
                nameof(geometry));
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacityTokens);
        TokenStride = checked(geometry.KvHeads * geometry.HeadDim);
        var layerElements = checked(capacityTokens * TokenStride);
        Geometry = geometry;
        CapacityTokens = capacityTokens;
        BlockBytes = checked((int)geometry.BytesPerBlock);
        _keys = new float[geometry.Layers][];
        _values = new float[geometry.Layers][];
        for (var layer = 0; layer < geometry.Layers; layer++)
        {
            _keys[layer] = new float[layerElements];
            _values[layer] = new float[layerElements];
        }
    }

    /// <summary>The KV geometry (fp32).</summary>
    public ModelGeometry Geometry { get; }

    /// <summary>The most tokens the buffer holds.</summary>
    public int CapacityTokens { get; }

    /// <summary>Tokens per block.</summary>
    public int BlockTokens => Geometry.BlockTokens;

    /// <summary>Full blocks that fit in the buffer.</summary>
    public int BlockCapacity => CapacityTokens / BlockTokens;

    /// <summary>Floats per token per layer in K (and in V): kvHeads × headDim.</summary>
    public int TokenStride { get; }

    /// <summary>Bytes of one block in the layer-major contiguous layout (= <see cref="ModelGeometry.BytesPerBlock"/>).</summary>
    public int BlockBytes { get; }

    /// <summary>All of one layer's K, [token][kvHead][headDim], for every token of the capacity.</summary>
    public Span<float> Keys(int layer) => _keys[layer];

    /// <summary>All of one layer's V, [token][kvHead][headDim], for every token of the capacity.</summary>
    public Span<float> Values(int layer) => _values[layer];

    /// <summary>One token's K in one layer: [kvHead][headDim].</summary>
    public Span<float> Key(int layer, int token) => _keys[layer].AsSpan(TokenOffset(token), TokenStride);

    /// <summary>One token's V in one layer: [kvHead][headDim].</summary>
    public Span<float> Value(int layer, int token) => _values[layer].AsSpan(TokenOffset(token), TokenStride);

    /// <summary>
    /// Copies block <paramref name="block"/> of every layer's K and V into <paramref name="destination"/>, laid out
    /// [layer][K then V][token in block][kvHead][headDim].
    /// </summary>
    public void ReadBlock(int block, Span<byte> destination)
    {
        var (start, length) = BlockRange(block, destination.Length, nameof(destination));
        var offset = 0;
        for (var layer = 0; layer < Geometry.Layers; layer++)
        {
            offset += Copy(_keys[layer].AsSpan(start, length), destination[offset..]);
            offset += Copy(_values[layer].AsSpan(start, length), destination[offset..]);
        }
    }

    /// <summary>
    /// Copies a block laid out as by <see cref="ReadBlock"/> into block <paramref name="block"/> of every layer.
    /// </summary>
    public void WriteBlock(int block, ReadOnlySpan<byte> source)
    {
        var (start, length) = BlockRange(block, source.Length, nameof(source));
        var bytes = length * sizeof(float);
        var offset = 0;
        for (var layer = 0; layer < Geometry.Layers; layer++)
        {
            MemoryMarshal.Cast<byte, float>(source.Slice(offset, bytes)).CopyTo(_keys[layer].AsSpan(start, length));
            offset += bytes;
            MemoryMarshal.Cast<byte, float>(source.Slice(offset, bytes)).CopyTo(_values[layer].AsSpan(start, length));
            offset += bytes;
        }
    }

    /// <summary>Zeroes every layer's K and V.</summary>
    public void Clear()
    {
        for (var layer = 0; layer < Geometry.Layers; layer++)
        {
            Array.Clear(_keys[layer]);
            Array.Clear(_values[layer]);
        }
    }

    private int TokenOffset(int token)
    {
        if ((uint)token >= (uint)CapacityTokens)
        {
            throw new ArgumentOutOfRangeException(nameof(token), token, $"token must be in [0, {CapacityTokens}).");
        }

        return token * TokenStride;
    }

    private (int Start, int Length) BlockRange(int block, int spanBytes, string spanName)
    {
        if ((uint)block >= (uint)BlockCapacity)
        {
            throw new ArgumentOutOfRangeException(
                nameof(block), block, $"block must be in [0, {BlockCapacity}) for a buffer of {CapacityTokens} tokens.");
        }

        if (spanBytes != BlockBytes)
        {
            throw new ArgumentException($"{spanName} is {spanBytes} bytes; a block is {BlockBytes} bytes.", spanName);
        }

        var length = BlockTokens * TokenStride;
        return (block * length, length);
    }

    private static int Copy(ReadOnlySpan<float> source, Span<byte> destination)
    {
        var bytes = MemoryMarshal.AsBytes(source);
        bytes.CopyTo(destination);
        return bytes.Length;
    }
}
