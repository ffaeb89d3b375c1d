using System.Diagnostics;
using System.IO.MemoryMappedFiles;

namespace KvTier.Transfer;

/// <summary>
/// A pool in a shared-memory file that the engine maps too (CPU machines, tests, the demo): typically under /dev/shm.
/// The engine is considered gone when the file is removed or, if given, its process has exited.
/// </summary>
public sealed unsafe class SharedMemoryPool : IPoolMemory
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly string _path;
    private readonly int _enginePid;
    private byte* _pointer;

    /// <summary>Maps <paramref name="path"/>, which must hold at least <paramref name="length"/> bytes.</summary>
    public SharedMemoryPool(string path, long length, int enginePid = 0)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new FileNotFoundException($"KV pool file '{path}' does not exist: the engine must create and size it first.", path);
        }

        if (info.Length < length)
        {
            throw new ArgumentException($"KV pool file '{path}' holds {info.Length} bytes but the pool needs {length}: check the geometry and block count.");
        }

        _path = path;
        _enginePid = enginePid;
        _file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.ReadWrite);
        _view = _file.CreateViewAccessor(0, length, MemoryMappedFileAccess.ReadWrite);
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref _pointer);
        _pointer += _view.PointerOffset;
        Length = length;
    }

    /// <summary>Creates (or resizes) a pool file, as an engine would, and returns its path.</summary>
    public static string Create(string path, long length)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.ReadWrite);
        stream.SetLength(length);
        return path;
    }

    /// <inheritdoc/>
    public byte* Pointer => _pointer;

    /// <inheritdoc/>
    public long Length { get; }

    /// <inheritdoc/>
    public bool IsAlive => File.Exists(_path) && (_enginePid == 0 || ProcessIsAlive(_enginePid));

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_pointer != null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _pointer = null;
        }

        _view.Dispose();
        _file.Dispose();
    }

    private static bool ProcessIsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
