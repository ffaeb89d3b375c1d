using ILGPU;
using ILGPU.Runtime;
using System.Runtime.InteropServices;

namespace KvTier.Transfer.Tests;

/// <summary>The ILGPU kernels on ILGPU's CPU accelerator (an emulator: small data only) against the host copier.</summary>
public sealed class KernelTests : IDisposable
{
    private readonly Context _context;
    private readonly Accelerator _accelerator;
    private readonly KernelCopier _kernels;

    public KernelTests()
    {
        (_context, _accelerator) = AcceleratorChoice.Create(AcceleratorKind.Cpu);
        _kernels = new KernelCopier(_accelerator);
    }

    public void Dispose()
    {
        _accelerator.Dispose();
        _context.Dispose();
    }

    [Theory]
    [InlineData(KvPoolLayout.VllmPaged)]
    [InlineData(KvPoolLayout.LayerMajor)]
    public unsafe void Gather_kernel_matches_the_host_copier_bit_for_bit(KvPoolLayout layout)
    {
        var spec = new KvPoolSpec(Pools.Small, layout, numBlocks: 6);
        var pool = Pools.Random(spec.PoolBytes, seed: 1);
        int[] slots = [4, 0, 5, 2];

        using var poolBuffer = _accelerator.Allocate1D(MemoryMarshal.Cast<byte, int>(pool).ToArray());
        using var stagingBuffer = _accelerator.Allocate1D<int>(slots.Length * spec.BlockBytes / 4);
        using var slotBuffer = _accelerator.Allocate1D(slots);
        _kernels.Gather(spec, poolBuffer.View, stagingBuffer.View, slotBuffer.View);
        var fromKernel = MemoryMarshal.AsBytes(stagingBuffer.GetAsArray1D().AsSpan()).ToArray();

        var fromHost = new byte[slots.Length * spec.BlockBytes];
        fixed (byte* p = pool)
        {
            for (var b = 0; b < slots.Length; b++)
            {
                HostCopier.Gather(spec, p, slots[b], fromHost.AsSpan(b * (int)spec.BlockBytes, (int)spec.BlockBytes));
            }
        }

        Assert.Equal(fromHost, fromKernel);
    }

    [Theory]
    [InlineData(KvPoolLayout.VllmPaged)]
    [InlineData(KvPoolLayout.LayerMajor)]
    public unsafe void Scatter_kernel_matches_the_host_copier_and_touches_only_its_slots(KvPoolLayout layout)
    {
        var spec = new KvPoolSpec(Pools.Small, layout, numBlocks: 6);
        var original = Pools.Random(spec.PoolBytes, seed: 2);
        int[] slots = [1, 3];
        var staged = Pools.Random(slots.Length * spec.BlockBytes, seed: 3);

        using var poolBuffer = _accelerator.Allocate1D(MemoryMarshal.Cast<byte, int>(original).ToArray());
        using var stagingBuffer = _accelerator.Allocate1D(MemoryMarshal.Cast<byte, int>(staged).ToArray());
        using var slotBuffer = _accelerator.Allocate1D(slots);
        _kernels.Scatter(spec, stagingBuffer.View, poolBuffer.View, slotBuffer.View);
        var fromKernel = MemoryMarshal.AsBytes(poolBuffer.GetAsArray1D().AsSpan()).ToArray();

        var fromHost = original.ToArray();
        fixed (byte* p = fromHost)
        {
            for (var b = 0; b < slots.Length; b++)
            {
                HostCopier.Scatter(spec, staged.AsSpan(b * (int)spec.BlockBytes, (int)spec.BlockBytes), p, slots[b]);
            }
        }

        Assert.Equal(fromHost, fromKernel);
        var untouched = new[] { 0, 2, 4, 5 };
        var copy = fromHost;
        fixed (byte* p = copy)
        fixed (byte* o = original)
        {
            foreach (var slot in untouched)
            {
                var before = new byte[spec.BlockBytes];
                var after = new byte[spec.BlockBytes];
                HostCopier.Gather(spec, o, slot, before);
                HostCopier.Gather(spec, p, slot, after);
                Assert.Equal(before, after);
            }
        }
    }

    [Fact]
    public unsafe void Host_gather_then_scatter_into_another_pool_reproduces_the_block()
    {
        var spec = new KvPoolSpec(Pools.Small, KvPoolLayout.VllmPaged, numBlocks: 3);
        var source = Pools.Random(spec.PoolBytes, seed: 4);
        var target = new byte[spec.PoolBytes];
        var staging = new byte[spec.BlockBytes];
        fixed (byte* s = source)
        fixed (byte* t = target)
        {
            HostCopier.Gather(spec, s, 1, staging);
            HostCopier.Scatter(spec, staging, t, 2);
            for (var c = 0; c < spec.Chunks; c++)
            {
                Assert.True(new ReadOnlySpan<byte>(s + spec.ChunkOffset(1, c), (int)spec.ChunkBytes)
                    .SequenceEqual(new ReadOnlySpan<byte>(t + spec.ChunkOffset(2, c), (int)spec.ChunkBytes)));
            }
        }
    }
}
