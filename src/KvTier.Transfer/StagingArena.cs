using System.Runtime.InteropServices;
using KvTier.Core;

namespace KvTier.Transfer;

/// <summary>
/// The pinned staging memory (<c>--staging</c>, default 256 MiB), preallocated once and recycled. Leases are
/// contiguous runs of 64 KiB pages; when the arena is full a rent waits (backpressure) instead of failing or
/// allocating more. Waiters are served in arrival order, so a large block cannot be starved by small ones.
/// </summary>
public sealed unsafe class StagingArena : IDisposable
{
    /// <summary>Allocation unit.</summary>
    public const int PageBytes = 64 * 1024;

    private readonly byte* _memory;
    private readonly bool[] _used;
    private readonly Queue<Waiter> _waiters = new();
    private readonly Lock _lock = new();
    private int _freePages;
    private bool _disposed;

    /// <summary>Allocates and touches <paramref name="bytes"/> (rounded up to whole pages) of pinned memory.</summary>
    public StagingArena(long bytes)
    {
        if (bytes < PageBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(bytes), bytes, $"--staging must be at least {ByteSize.Format(PageBytes)}.");
        }

        var pages = (int)((bytes + PageBytes - 1) / PageBytes);
        Bytes = (long)pages * PageBytes;
        // Native, page-aligned memory never moves; touching it now keeps first-touch faults out of transfers.
        _memory = (byte*)NativeMemory.AlignedAlloc((nuint)Bytes, 4096);
        for (long offset = 0; offset < Bytes; offset += int.MaxValue / 2)
        {
            new Span<byte>(_memory + offset, (int)Math.Min(int.MaxValue / 2, Bytes - offset)).Clear();
        }

        _used = new bool[pages];
        _freePages = pages;
    }

    /// <summary>Bytes of staging.</summary>
    public long Bytes { get; }

    /// <summary>Bytes currently leased.</summary>
    public long LeasedBytes
    {
        get
        {
            lock (_lock)
            {
                return (long)(_used.Length - _freePages) * PageBytes;
            }
        }
    }

    /// <summary>Rents <paramref name="bytes"/> of contiguous staging, waiting while the arena is full.</summary>
    public ValueTask<StagingLease> RentAsync(long bytes, CancellationToken cancellationToken = default)
    {
        var pages = (int)Math.Max(1, (bytes + PageBytes - 1) / PageBytes);
        if (pages > _used.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(bytes), bytes,
                $"a block of {ByteSize.Format(bytes)} does not fit in --staging {ByteSize.Format(Bytes)}: raise --staging.");
        }

        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_waiters.Count == 0 && TryTake(pages, bytes, out var lease))
            {
                return ValueTask.FromResult(lease);
            }

            var waiter = new Waiter(pages, bytes);
            _waiters.Enqueue(waiter);
            if (cancellationToken.CanBeCanceled)
            {
                waiter.Registration = cancellationToken.Register(() => Cancel(waiter, cancellationToken));
            }

            return new ValueTask<StagingLease>(waiter.Completion.Task);
        }
    }

    /// <summary>Frees the arena. Outstanding leases must be returned first.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            while (_waiters.TryDequeue(out var w))
            {
                w.Completion.TrySetException(new ObjectDisposedException(nameof(StagingArena)));
            }
        }

        NativeMemory.AlignedFree(_memory);
    }

    internal void Return(int firstPage, int pages)
    {
        lock (_lock)
        {
            Array.Fill(_used, false, firstPage, pages);
            _freePages += pages;
            while (_waiters.TryPeek(out var next) && !next.Completion.Task.IsCompleted)
            {
                if (!TryTake(next.Pages, next.Bytes, out var lease))
                {
                    return; // first in line must wait for more room; later ones wait behind it
                }

                _waiters.Dequeue();
                next.Registration.Dispose();
                if (!next.Completion.TrySetResult(lease))
                {
                    Array.Fill(_used, false, lease.FirstPage, lease.Pages);
                    _freePages += lease.Pages;
                }
            }

            // Drop cancelled waiters at the head.
            while (_waiters.TryPeek(out var head) && head.Completion.Task.IsCompleted)
            {
                _waiters.Dequeue();
            }
        }
    }

    private bool TryTake(int pages, long bytes, out StagingLease lease)
    {
        lease = default;
        if (pages > _freePages)
        {
            return false;
        }

        var run = 0;
        for (var i = 0; i < _used.Length; i++)
        {
            run = _used[i] ? 0 : run + 1;
            if (run == pages)
            {
                var first = i - pages + 1;
                Array.Fill(_used, true, first, pages);
                _freePages -= pages;
                lease = new StagingLease(this, _memory + (long)first * PageBytes, bytes, first, pages);
                return true;
            }
        }

        return false;
    }

    private void Cancel(Waiter waiter, CancellationToken token)
    {
        lock (_lock)
        {
            waiter.Completion.TrySetCanceled(token);
        }
    }

    private sealed class Waiter(int pages, long bytes)
    {
        public int Pages { get; } = pages;
        public long Bytes { get; } = bytes;
        public TaskCompletionSource<StagingLease> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public CancellationTokenRegistration Registration { get; set; }
    }
}

/// <summary>A run of staging memory; dispose to return it.</summary>
public readonly unsafe struct StagingLease : IDisposable
{
    private readonly StagingArena? _arena;

    internal StagingLease(StagingArena arena, byte* pointer, long bytes, int firstPage, int pages)
    {
        _arena = arena;
        Pointer = pointer;
        Length = bytes;
        FirstPage = firstPage;
        Pages = pages;
    }

    /// <summary>Start of the lease.</summary>
    public byte* Pointer { get; }

    /// <summary>Bytes requested.</summary>
    public long Length { get; }

    internal int FirstPage { get; }

    internal int Pages { get; }

    /// <summary>The leased bytes.</summary>
    public Span<byte> Span => new(Pointer, checked((int)Length));

    /// <inheritdoc/>
    public void Dispose() => _arena?.Return(FirstPage, Pages);
}
