using System.Diagnostics;
using System.Text;

namespace Strix.Distributed.Mpi;

/// <summary>
/// Checked wrappers over <see cref="MpiNative"/>: every non-zero return becomes an
/// <see cref="MpiException"/> naming the call, and every collective is non-blocking plus a
/// deadline-bounded <c>MPI_Test</c> loop (<see cref="Wait"/>), so a dead or stuck peer becomes a
/// <see cref="CollectiveTimeoutException"/> instead of a hang.
/// </summary>
internal static unsafe class Mpi
{
    public static void Check(int code, string call, string? context = null)
    {
        if (code != MpiNative.Success) throw new MpiException(call, code, ErrorString(code), context);
    }

    /// <summary>The library's text for an error code (<c>MPI_Error_string</c>).</summary>
    public static string ErrorString(int code)
    {
        try
        {
            var buf = stackalloc byte[MpiNative.MaxErrorString + 1];
            int len = 0;
            if (MpiNative.Error_string(code, buf, &len) != MpiNative.Success) return "unknown error";
            return Encoding.ASCII.GetString(buf, Math.Clamp(len, 0, MpiNative.MaxErrorString));
        }
        catch (Exception) { return "unknown error"; }
    }

    public static bool IsInitialized()
    {
        MpiNative.EnsureLoaded();
        int flag = 0;
        Check(MpiNative.Initialized(&flag), "MPI_Initialized");
        return flag != 0;
    }

    public static bool IsFinalized()
    {
        MpiNative.EnsureLoaded();
        int flag = 0;
        Check(MpiNative.Finalized(&flag), "MPI_Finalized");
        return flag != 0;
    }

    /// <summary><c>MPI_Init_thread(NULL, NULL, required, &amp;provided)</c>; returns the provided level.</summary>
    public static int InitThread(int required)
    {
        int provided = 0;
        Check(MpiNative.Init_thread(null, null, required, &provided), "MPI_Init_thread");
        return provided;
    }

    public static int QueryThread()
    {
        int provided = 0;
        Check(MpiNative.Query_thread(&provided), "MPI_Query_thread");
        return provided;
    }

    public static void FinalizeMpi() => Check(MpiNative.Finalize(), "MPI_Finalize");

    /// <summary><c>MPI_Abort</c>: asks the launcher to kill every rank of the job. Does not return in practice.</summary>
    public static void Abort(nint comm, int errorCode) => MpiNative.Abort(comm, errorCode);

    public static int CommRank(nint comm) { int r = 0; Check(MpiNative.Comm_rank(comm, &r), "MPI_Comm_rank"); return r; }
    public static int CommSize(nint comm) { int s = 0; Check(MpiNative.Comm_size(comm, &s), "MPI_Comm_size"); return s; }

    public static void SetErrorsReturn(nint comm) =>
        Check(MpiNative.Comm_set_errhandler(comm, MpiNative.ErrorsReturn), "MPI_Comm_set_errhandler", "MPI_ERRORS_RETURN");

    /// <summary>The ranks that share memory with this one (one node): <c>MPI_Comm_split_type(…, MPI_COMM_TYPE_SHARED, …)</c>.</summary>
    public static nint SplitShared(nint comm, int key)
    {
        nint result = 0;
        Check(MpiNative.Comm_split_type(comm, MpiNative.CommTypeShared, key, MpiNative.InfoNull, &result), "MPI_Comm_split_type", "MPI_COMM_TYPE_SHARED");
        return result;
    }

    public static void CommFree(ref nint comm)
    {
        nint c = comm;
        Check(MpiNative.Comm_free(&c), "MPI_Comm_free");
        comm = c;
    }

    public static string ProcessorName()
    {
        var buf = stackalloc byte[MpiNative.MaxProcessorName + 1];
        int len = 0;
        Check(MpiNative.Get_processor_name(buf, &len), "MPI_Get_processor_name");
        return Encoding.ASCII.GetString(buf, Math.Clamp(len, 0, MpiNative.MaxProcessorName));
    }

    public static string LibraryVersion()
    {
        var buf = stackalloc byte[MpiNative.MaxLibraryVersionString + 1];
        int len = 0;
        Check(MpiNative.Get_library_version(buf, &len), "MPI_Get_library_version");
        return Encoding.ASCII.GetString(buf, Math.Clamp(len, 0, MpiNative.MaxLibraryVersionString)).TrimEnd('\0', '\n', ' ');
    }

    /// <summary>
    /// Drives <paramref name="request"/> to completion with <c>MPI_Test</c> until <paramref name="timeout"/> has passed.
    /// Open MPI progresses non-blocking collectives only inside MPI calls, so the loop tests back-to-back
    /// for the first milliseconds (full speed for gradient buckets), then yields, then sleeps 1 ms
    /// between tests (a rank waiting for a slow peer does not burn a core for minutes).
    /// </summary>
    /// <exception cref="CollectiveTimeoutException">The deadline passed; the request is abandoned (the communicator is no longer usable).</exception>
    public static void Wait(ref nint request, string call, string what, TimeSpan timeout, int rank, int worldSize)
    {
        var sw = Stopwatch.StartNew();
        long spinTicks = Stopwatch.Frequency / 50;    // 20 ms of pure polling
        long yieldTicks = Stopwatch.Frequency / 2;     // then yield until 0.5 s
        long limitTicks = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        int done = 0;
        nint req = request;
        try
        {
            while (true)
            {
                Check(MpiNative.Test(&req, &done, null), "MPI_Test", $"{call}: {what}");
                if (done != 0) return;
                long t = sw.ElapsedTicks;
                if (t >= limitTicks)
                    throw new CollectiveTimeoutException(call, what, timeout, rank, worldSize);
                if (t < spinTicks) Thread.SpinWait(20);
                else if (t < yieldTicks) Thread.Yield();
                else Thread.Sleep(1);
            }
        }
        finally { request = req; }
    }
}
