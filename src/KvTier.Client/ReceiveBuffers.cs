using System.Buffers;

namespace KvTier.Client;

/// <summary>An <see cref="IBufferWriter{T}"/> that allocates exactly one array of the size first asked for.</summary>
internal sealed class ExactArrayWriter : IBufferWriter<byte>
{
    private byte[] _array = [];

    public byte[] Array => _array;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        if (_array.Length < sizeHint)
        {
            _array = new byte[sizeHint];
        }

        return _array;
    }

    public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    public void Advance(int count)
    {
        if (count != _array.Length)
        {
            throw new InvalidOperationException($"advanced {count} bytes into an array of {_array.Length}");
        }
    }
}

/// <summary>
/// An <see cref="IBufferWriter{T}"/> over one pooled array, so a block can be verified in full before any of it
/// reaches a stream. Dispose returns the array.
/// </summary>
internal sealed class PooledArrayWriter : IBufferWriter<byte>, IDisposable
{
    private byte[]? _array;

    public int Written { get; private set; }

    public ReadOnlyMemory<byte> WrittenMemory => _array.AsMemory(0, Written);

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        if (_array is null || _array.Length - Written < sizeHint)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(Written + sizeHint, 256));
            if (_array is not null)
            {
                _array.AsSpan(0, Written).CopyTo(bigger);
                ArrayPool<byte>.Shared.Return(_array);
            }

            _array = bigger;
        }

        return _array.AsMemory(Written);
    }

    public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    public void Advance(int count) => Written += count;

    public void Dispose()
    {
        if (_array is not null)
        {
            ArrayPool<byte>.Shared.Return(_array);
            _array = null;
        }
    }
}
