using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Strix.Distributed;

/// <summary>
/// Bounds blocking regions that cannot poll a deadline themselves (a blocking MPI call): armed before,
/// disarmed after. If a region outlives its limit — a peer died in the middle of the collective and
/// the launcher did not take the job down — a background thread prints which collective on which rank,
/// and ends the process with exit code 70 (no MPI call from a second thread; the launcher then sees a
/// dead rank and tears down the rest). Never hangs, even inside MPI.
/// </summary>
public static class CollectiveWatchdog
{
    /// <summary>Exit code of a process ended by the watchdog.</summary>
    public const int ExitCode = 70;

    sealed class Region(string message, long deadlineTicks)
    {
        public readonly string Message = message;
        public readonly long DeadlineTicks = deadlineTicks;
    }

    static readonly object Gate = new();
    static readonly HashSet<Region> Armed = new();
    static Thread? _thread;

    /// <summary>Arms the watchdog for <paramref name="timeout"/>; dispose the result when the region ends.</summary>
    public static IDisposable Arm(string what, TimeSpan timeout, int rank, int worldSize)
    {
        if (timeout == Timeout.InfiniteTimeSpan) return Disarmed.Instance;
        var region = new Region(
            $"strix: rank {rank} of {worldSize}: {what} did not finish within {timeout.TotalSeconds:0.#} s — a rank died or stalled " +
            "inside the collective; exiting so the launcher ends the job (raise STRIX_DIST_TIMEOUT if it legitimately needs longer)",
            Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency));
        lock (Gate)
        {
            Armed.Add(region);
            if (_thread is null)
            {
                _thread = new Thread(Watch) { IsBackground = true, Name = "strix-collective-watchdog" };
                _thread.Start();
            }
        }
        return new Disarm(region);
    }

    static void Watch()
    {
        while (true)
        {
            Thread.Sleep(100);
            Region? expired;
            lock (Gate)
            {
                long now = Stopwatch.GetTimestamp();
                expired = Armed.FirstOrDefault(r => now >= r.DeadlineTicks);
            }
            if (expired is null) continue;
            try
            {
                Console.Error.WriteLine(expired.Message);
                Console.Error.Flush();
                Console.Out.Flush();
            }
            finally { HardExit(ExitCode); }
        }
    }

    /// <summary><c>_exit</c>: ends the process without running managed shutdown (which could block on the stuck thread).</summary>
    static unsafe void HardExit(int code)
    {
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
            foreach (var libc in new[] { "libc.so.6", "libc.dylib", "libc" })
                if (NativeLibrary.TryLoad(libc, out var h) && NativeLibrary.TryGetExport(h, "_exit", out var f))
                    ((delegate* unmanaged[Cdecl]<int, void>)f)(code);
        Environment.Exit(code);
    }

    sealed class Disarm(Region region) : IDisposable
    {
        public void Dispose() { lock (Gate) Armed.Remove(region); }
    }

    sealed class Disarmed : IDisposable
    {
        public static readonly Disarmed Instance = new();
        public void Dispose() { }
    }
}
