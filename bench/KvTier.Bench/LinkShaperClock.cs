using System.Diagnostics;
using System.Runtime.InteropServices;

namespace KvTier.Bench;

/// <summary>
/// Waits until a <see cref="Stopwatch"/> timestamp to within microseconds without burning a core: long waits sleep
/// (cancellably), waits down to <see cref="SpinBelow"/> sleep in the kernel (Linux: <c>clock_nanosleep</c> with the
/// thread's timer slack cut to 1 µs, so it wakes on time instead of up to 50 µs late), and only the last few
/// microseconds spin. Elsewhere short waits spin, yielding. On a 2-core machine this matters: a shaper that spins
/// through every one-way delay takes a core from the client and server whose link it emulates.
/// </summary>
internal static partial class LinkShaperClock
{
    private const int ClockMonotonic = 1;
    private const int PrSetTimerSlack = 29;

    private static readonly long LongWait = Stopwatch.Frequency / 500;            // 2 ms: sleep on a wait handle above
    private static readonly long LongWaitMargin = Stopwatch.Frequency / 1000;     // and wake 1 ms early
    private static readonly long SpinBelow = Stopwatch.Frequency / 50_000;        // 20 µs: spin the last stretch

    /// <summary>Call once on a thread that will wait: on Linux, cuts its timer slack to 1 µs.</summary>
    public static void PrepareThread()
    {
        if (OperatingSystem.IsLinux())
        {
            _ = prctl(PrSetTimerSlack, 1000, 0, 0, 0);
        }
    }

    /// <summary>Returns at <paramref name="due"/> (a <see cref="Stopwatch"/> timestamp) or soon after; throws when <paramref name="stop"/> is cancelled during a long wait.</summary>
    public static void WaitUntil(long due, CancellationToken stop)
    {
        var remaining = due - Stopwatch.GetTimestamp();
        if (remaining > LongWait)
        {
            // A link shaped to a few Mbit/s can hold a chunk for long: stay cancellable.
            stop.WaitHandle.WaitOne(TimeSpan.FromSeconds((double)(remaining - LongWaitMargin) / Stopwatch.Frequency));
            stop.ThrowIfCancellationRequested();
            remaining = due - Stopwatch.GetTimestamp();
        }

        if (remaining > 2 * SpinBelow && OperatingSystem.IsLinux())
        {
            var ns = (long)((remaining - SpinBelow) * (1e9 / Stopwatch.Frequency));
            var request = new Timespec { Seconds = ns / 1_000_000_000, Nanoseconds = ns % 1_000_000_000 };
            _ = clock_nanosleep(ClockMonotonic, 0, in request, IntPtr.Zero);
        }

        var spin = default(SpinWait);
        while (Stopwatch.GetTimestamp() < due)
        {
            spin.SpinOnce(sleep1Threshold: -1);
        }
    }

    [LibraryImport("libc")]
    private static partial int clock_nanosleep(int clock, int flags, in Timespec request, IntPtr remain);

    [LibraryImport("libc")]
    private static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
