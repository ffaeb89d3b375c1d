using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace KvTier.Transfer;

/// <summary>Which device moves blocks: <c>--accelerator auto|cuda|cpu</c>.</summary>
public enum AcceleratorKind
{
    /// <summary>CUDA when a GPU is present, otherwise the host path.</summary>
    Auto,
    /// <summary>An NVIDIA GPU through ILGPU's CUDA backend.</summary>
    Cuda,
    /// <summary>The host path: plain memory copies.</summary>
    Cpu,
}

/// <summary>Resolves <see cref="AcceleratorKind"/> against the machine.</summary>
public static class AcceleratorChoice
{
    /// <summary>Parses auto, cuda or cpu.</summary>
    public static AcceleratorKind Parse(string text) => text.ToLowerInvariant() switch
    {
        "auto" => AcceleratorKind.Auto,
        "cuda" or "gpu" => AcceleratorKind.Cuda,
        "cpu" or "host" => AcceleratorKind.Cpu,
        _ => throw new FormatException($"'{text}' is not an accelerator: use auto, cuda or cpu."),
    };

    /// <summary>
    /// The kind that will run: <see cref="AcceleratorKind.Cuda"/> or <see cref="AcceleratorKind.Cpu"/>. Asking for CUDA
    /// on a machine without a CUDA device throws with the fix.
    /// </summary>
    public static AcceleratorKind Resolve(AcceleratorKind requested)
    {
        if (requested == AcceleratorKind.Cpu)
        {
            return AcceleratorKind.Cpu;
        }

        using var context = Context.Create(builder => builder.Cuda());
        var hasCuda = context.GetCudaDevices().Count > 0;
        return (requested, hasCuda) switch
        {
            (_, true) => AcceleratorKind.Cuda,
            (AcceleratorKind.Auto, false) => AcceleratorKind.Cpu,
            _ => throw new InvalidOperationException("--accelerator cuda: no CUDA device is visible here; use --accelerator auto or cpu."),
        };
    }

    /// <summary>Creates an ILGPU context and accelerator of <paramref name="kind"/> (the CPU one is ILGPU's emulator, for tests).</summary>
    public static (Context Context, Accelerator Accelerator) Create(AcceleratorKind kind)
    {
        var context = Context.Create(builder => builder.CPU().Cuda());
        Accelerator accelerator = kind == AcceleratorKind.Cuda
            ? context.CreateCudaAccelerator(0)
            : context.CreateCPUAccelerator(0);
        return (context, accelerator);
    }
}
