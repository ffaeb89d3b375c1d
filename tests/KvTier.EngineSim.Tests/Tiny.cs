using KvTier.Core;

namespace KvTier.EngineSim.Tests;

/// <summary>Shared helpers: the tiny preset, prompts and raw K/V snapshots.</summary>
internal static class Tiny
{
    public static ModelPreset Preset => ModelPreset.Get("tiny");

    public static int BlockTokens => Preset.Geometry.BlockTokens;

    public static int[] Prompt(int count, int seed = 7) => ReferenceModel.SyntheticTokens(count, Preset.Vocab, seed);

    /// <summary>A full prefill from empty.</summary>
    public static KvBuffer FullPrefill(ReferenceModel model, int[] tokens)
    {
        var kv = model.CreateKvBuffer(tokens.Length);
        model.Prefill(tokens, 0, kv);
        return kv;
    }

    /// <summary>Every block of <paramref name="kv"/> in the block layout.</summary>
    public static byte[] Block(KvBuffer kv, int block)
    {
        var bytes = new byte[kv.BlockBytes];
        kv.ReadBlock(block, bytes);
        return bytes;
    }

    /// <summary>K and V of token <paramref name="token"/>, every layer, as raw bytes.</summary>
    public static byte[] TokenBytes(KvBuffer kv, int token)
    {
        var floats = new List<float>();
        for (var layer = 0; layer < kv.Geometry.Layers; layer++)
        {
            floats.AddRange(kv.Key(layer, token).ToArray());
            floats.AddRange(kv.Value(layer, token).ToArray());
        }

        return System.Runtime.InteropServices.MemoryMarshal.AsBytes(floats.ToArray().AsSpan()).ToArray();
    }

    /// <summary>Every layer's K and V for the whole capacity, as raw bytes.</summary>
    public static byte[] AllBytes(KvBuffer kv)
    {
        var bytes = new List<byte>();
        for (var layer = 0; layer < kv.Geometry.Layers; layer++)
        {
            bytes.AddRange(System.Runtime.InteropServices.MemoryMarshal.AsBytes(kv.Keys(layer)).ToArray());
            bytes.AddRange(System.Runtime.InteropServices.MemoryMarshal.AsBytes(kv.Values(layer)).ToArray());
        }

        return [.. bytes];
    }
}
