namespace KvTier.Server.Tests;

public sealed class AcceleratorTests
{
    [Fact]
    public async Task Asking_for_cuda_on_a_node_without_a_gpu_fails_at_start_with_the_fix()
    {
        // This suite runs on CPU machines; on a GPU node this test would have nothing to refuse.
        if (Transfer.AcceleratorChoice.Resolve(Transfer.AcceleratorKind.Auto) == Transfer.AcceleratorKind.Cuda)
        {
            Assert.Equal(Transfer.AcceleratorKind.Cuda, Transfer.AcceleratorChoice.Resolve(Transfer.AcceleratorKind.Cuda));
            return;
        }

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => KvTierServer.StartAsync(new ServerOptions
        {
            Listen = "127.0.0.1:0", Memory = "32MiB", MaxBlock = "1MiB", Staging = "1MiB", Accelerator = "cuda",
        }));

        Assert.Contains("--accelerator", ex.Message, StringComparison.Ordinal);
        Assert.Contains("auto", ex.Message, StringComparison.Ordinal);
    }
}
