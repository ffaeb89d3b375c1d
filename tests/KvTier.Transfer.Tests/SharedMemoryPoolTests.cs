using System.Diagnostics;

namespace KvTier.Transfer.Tests;

public sealed class SharedMemoryPoolTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"kvtier-pool-{Guid.NewGuid():N}");

    public void Dispose() => File.Delete(_path);

    [Fact]
    public unsafe void Writes_through_the_mapping_are_visible_in_the_file_the_engine_shares()
    {
        SharedMemoryPool.Create(_path, 8192);
        using (var pool = new SharedMemoryPool(_path, 8192))
        {
            new Span<byte>(pool.Pointer + 4096, 4).Fill(7);
            Assert.True(pool.IsAlive);
        }

        var bytes = File.ReadAllBytes(_path);
        Assert.Equal(new byte[] { 7, 7, 7, 7 }, bytes[4096..4100]);
    }

    [Fact]
    public void A_removed_file_or_a_dead_engine_process_marks_the_pool_dead()
    {
        SharedMemoryPool.Create(_path, 4096);
        using var dead = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        dead.WaitForExit();
        using (var byPid = new SharedMemoryPool(_path, 4096, dead.Id))
        {
            Assert.False(byPid.IsAlive);
        }

        using var pool = new SharedMemoryPool(_path, 4096, Environment.ProcessId);
        Assert.True(pool.IsAlive);
        File.Delete(_path);
        Assert.False(pool.IsAlive);
    }

    [Fact]
    public void A_missing_or_short_file_is_refused_with_the_reason()
    {
        Assert.Throws<FileNotFoundException>(() => new SharedMemoryPool(_path, 4096));
        SharedMemoryPool.Create(_path, 100);
        var ex = Assert.Throws<ArgumentException>(() => new SharedMemoryPool(_path, 4096));
        Assert.Contains("100 bytes", ex.Message, StringComparison.Ordinal);
    }
}
