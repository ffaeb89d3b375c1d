using System.Buffers;
using System.Diagnostics;
using System.Net.Sockets;

namespace KvTier.Bench;

/// <summary>
/// One direction of one proxied connection: a reader thread receives chunks (up to <see cref="ChunkBytes"/>) into a
/// fixed ring of slots, allocated once per connection, and stamps each with its due time: its departure from the
/// shared bucket + the one-way delay. A writer thread sends each slot at its due time (<see cref="LinkShaperClock"/>:
/// microsecond waits without spinning through them), together with the slots after it that are due by then. The ring
/// lets the reader run ahead by the bytes in flight on the emulated wire (rate × delay), so the delay does not cap the
/// rate. Threads of their own, not the thread pool: a waiting writer must not hold up the client and server it sits
/// between.
/// </summary>
internal sealed class LinkShaperPipe
{
    /// <summary>The most bytes one receive takes: large, to keep syscalls and thread hand-offs per byte few.</summary>
    public const int ChunkBytes = 256 << 10;

    private readonly Socket _from;
    private readonly Socket _to;
    private readonly LinkShaperBucket _bucket;
    private readonly long _delayTicks;
    private readonly int _chunk;
    private readonly int _slots;
    private readonly byte[] _ring;
    private readonly int[] _lengths;
    private readonly long[] _due;
    private readonly SemaphoreSlim _free;
    private readonly SemaphoreSlim _filled = new(0);
    private readonly CancellationToken _stop;
    private readonly Action<Exception?> _finished;
    private readonly Thread _reader;
    private readonly Thread _writer;
    private long _forwarded;
    private int _returned;

    /// <param name="from">Socket read from.</param>
    /// <param name="to">Socket written to.</param>
    /// <param name="bucket">The link direction's shared bucket.</param>
    /// <param name="delay">One-way delay added to every chunk.</param>
    /// <param name="name">Thread name prefix.</param>
    /// <param name="stop">Cancelled when the connection closes.</param>
    /// <param name="finished">
    /// Called as the pipe stops: with null once the writer has forwarded the end of the stream, else with the failure
    /// (by either thread, so possibly twice).
    /// </param>
    public LinkShaperPipe(Socket from, Socket to, LinkShaperBucket bucket, TimeSpan delay, string name, CancellationToken stop,
        Action<Exception?> finished)
    {
        _from = from;
        _to = to;
        _bucket = bucket;
        _delayTicks = (long)(delay.TotalSeconds * Stopwatch.Frequency);
        _chunk = ChunkBytes;

        // Room for twice the bytes in flight on the emulated wire, plus slack for the reader's own lag.
        var inFlight = bucket.BytesPerSecond * delay.TotalSeconds;
        _slots = (int)Math.Clamp(Math.Ceiling(2 * inFlight / _chunk) + 8, 16, 512);
        _ring = ArrayPool<byte>.Shared.Rent(_slots * _chunk);
        _lengths = new int[_slots];
        _due = new long[_slots];
        _free = new SemaphoreSlim(_slots);
        _stop = stop;
        _finished = finished;
        _reader = new Thread(ReadLoop) { IsBackground = true, Name = name + " read" };
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = name + " write" };
    }

    /// <summary>Payload bytes written to <c>to</c> so far.</summary>
    public long Forwarded => Interlocked.Read(ref _forwarded);

    public void Start()
    {
        _reader.Start();
        _writer.Start();
    }

    /// <summary>
    /// Waits for both threads (after the connection's sockets were closed) and returns the ring. Safe to call more
    /// than once and from several threads at once.
    /// </summary>
    public void Join()
    {
        _reader.Join();
        _writer.Join();
        if (Interlocked.Exchange(ref _returned, 1) == 0)
        {
            ArrayPool<byte>.Shared.Return(_ring);
        }
    }

    private void ReadLoop()
    {
        try
        {
            for (var slot = 0; ; slot = (slot + 1) % _slots)
            {
                _free.Wait(_stop);
                var n = _from.Receive(_ring, slot * _chunk, _chunk, SocketFlags.None);
                var now = Stopwatch.GetTimestamp();
                var leave = n > 0 ? _bucket.Depart(n, now) : now; // end of stream: delayed like data, no bytes
                _lengths[slot] = n;
                _due[slot] = leave + _delayTicks;
                _filled.Release();
                if (n == 0)
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The writer or the connection saw it too, or will: it reports the failure.
            _finished(e);
        }
    }

    private void WriteLoop()
    {
        LinkShaperClock.PrepareThread();
        try
        {
            var taken = false; // the next slot's semaphore count was taken while looking ahead
            for (var slot = 0; ; )
            {
                if (!taken)
                {
                    _filled.Wait(_stop);
                }

                LinkShaperClock.WaitUntil(_due[slot], _stop);
                var n = _lengths[slot];
                if (n == 0)
                {
                    _to.Shutdown(SocketShutdown.Send);
                    _finished(null);
                    return;
                }

                // Slots after this one that are due already and follow it in the ring go out in the same send.
                var count = 1;
                taken = false;
                while (_lengths[slot + count - 1] == _chunk && slot + count < _slots && _filled.Wait(0))
                {
                    var next = slot + count;
                    if (_lengths[next] == 0 || _due[next] > Stopwatch.GetTimestamp())
                    {
                        taken = true;
                        break;
                    }

                    n += _lengths[next];
                    count++;
                }

                for (var sent = 0; sent < n;)
                {
                    sent += _to.Send(_ring, (slot * _chunk) + sent, n - sent, SocketFlags.None);
                }

                Interlocked.Add(ref _forwarded, n);
                _free.Release(count);
                slot = (slot + count) % _slots;
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            _finished(e);
        }
    }
}
