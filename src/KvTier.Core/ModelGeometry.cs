using System.Buffers.Binary;
using System.IO.Hashing;

namespace KvTier.Core;

/// <summary>
/// The shape of one model's KV cache: what a block of <see cref="BlockTokens"/> tokens weighs.
/// Per token a model stores K and V for every layer and KV head: 2 × layers × kv_heads × head_dim × dtype bytes.
/// </summary>
public sealed record ModelGeometry
{
    /// <summary>Creates a geometry and checks it.</summary>
    public ModelGeometry(string name, int layers, int kvHeads, int headDim, KvDType dtype, int blockTokens = 16)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Positive(layers, nameof(layers));
        Positive(kvHeads, nameof(kvHeads));
        Positive(headDim, nameof(headDim));
        Positive(blockTokens, nameof(blockTokens));
        Name = name;
        Layers = layers;
        KvHeads = kvHeads;
        HeadDim = headDim;
        DType = dtype;
        BlockTokens = blockTokens;
    }

    /// <summary>Model name (preset name or the engine's model id).</summary>
    public string Name { get; }

    /// <summary>Transformer layers.</summary>
    public int Layers { get; }

    /// <summary>Key/value heads (grouped-query attention shares them among query heads).</summary>
    public int KvHeads { get; }

    /// <summary>Elements per head.</summary>
    public int HeadDim { get; }

    /// <summary>Element type.</summary>
    public KvDType DType { get; }

    /// <summary>Tokens per block.</summary>
    public int BlockTokens { get; }

    /// <summary>Bytes of K (or of V) for one token in one layer.</summary>
    public long BytesPerTokenPerLayerHalf => (long)KvHeads * HeadDim * DType.Size();

    /// <summary>Bytes of K and V, all layers, for one token.</summary>
    public long BytesPerToken => 2L * Layers * BytesPerTokenPerLayerHalf;

    /// <summary>Bytes of one full block.</summary>
    public long BytesPerBlock => BytesPerToken * BlockTokens;

    /// <summary>
    /// A 64-bit fingerprint of everything that decides the block layout (not the name): a block written under one
    /// geometry is refused when read under another.
    /// </summary>
    public ulong Fingerprint
    {
        get
        {
            Span<byte> fields = stackalloc byte[20];
            BinaryPrimitives.WriteInt32LittleEndian(fields, Layers);
            BinaryPrimitives.WriteInt32LittleEndian(fields[4..], KvHeads);
            BinaryPrimitives.WriteInt32LittleEndian(fields[8..], HeadDim);
            BinaryPrimitives.WriteInt32LittleEndian(fields[12..], (int)DType);
            BinaryPrimitives.WriteInt32LittleEndian(fields[16..], BlockTokens);
            return XxHash64.HashToUInt64(fields);
        }
    }

    /// <summary>The same model with another block size.</summary>
    public ModelGeometry WithBlockTokens(int blockTokens) => new(Name, Layers, KvHeads, HeadDim, DType, blockTokens);

    /// <inheritdoc/>
    public override string ToString() =>
        $"{Name}: {Layers} layers × {KvHeads} kv heads × {HeadDim} dim, {DType}, {BlockTokens} tokens/block = {BytesPerBlock} B/block";

    private static void Positive(int value, string name)
    {
        if (value <= 0)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive.");
        }
    }
}
