using System.Runtime.InteropServices;
using Strix.Distributed.Mpi;
using TorchSharp;
using static TorchSharp.torch;
using MpiCalls = Strix.Distributed.Mpi.Mpi;

namespace Strix.Distributed;

/// <summary>
/// A process group over the system's Open MPI (MPI_COMM_WORLD). One per process: MPI can be
/// initialised once. Errors return as <see cref="MpiException"/> (MPI_ERRORS_RETURN, never the
/// default abort-without-message). Collectives are non-blocking plus a polled deadline
/// (<see cref="Timeout"/>): on expiry they throw <see cref="CollectiveTimeoutException"/>, the group is
/// marked broken, and <see cref="Dispose"/> calls MPI_Abort so the launcher tears the job down —
/// every rank exits non-zero instead of hanging. Large all-reduces (gradient buckets, ≥
/// <see cref="BlockingThresholdBytes"/>) take Open MPI's faster blocking algorithm instead, after a
/// timed MPI_Ibarrier and under the <see cref="CollectiveWatchdog"/>, which ends the process if a
/// peer dies inside the call. An unhandled exception anywhere in the process also
/// aborts the job (so peers do not wait for a rank that is already dead).
/// CUDA tensors are staged through host memory (Open MPI from Debian is not CUDA-aware).
/// </summary>
public sealed unsafe class MpiProcessGroup : IProcessGroup
{
    /// <summary>Default collective limit: 30 minutes (PyTorch's default), or <c>STRIX_DIST_TIMEOUT</c> seconds.</summary>
    public static TimeSpan DefaultTimeout
    {
        get
        {
            var s = Environment.GetEnvironmentVariable("STRIX_DIST_TIMEOUT");
            if (string.IsNullOrWhiteSpace(s)) return TimeSpan.FromMinutes(30);
            if (double.TryParse(s, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var sec) && sec > 0)
                return TimeSpan.FromSeconds(sec);
            throw new ArgumentException($"STRIX_DIST_TIMEOUT='{s}' is not a positive number of seconds");
        }
    }

    /// <summary>
    /// All-reduces of at least this many bytes use Open MPI's blocking MPI_Allreduce (its tuned algorithms
    /// are several times faster than the non-blocking libnbc ones for large buffers) behind a timed
    /// MPI_Ibarrier (every rank must have arrived) and the <see cref="CollectiveWatchdog"/>. Default 1 MiB,
    /// or <c>STRIX_DIST_BLOCKING_BYTES</c> (0 = always non-blocking).
    /// </summary>
    public static long DefaultBlockingThresholdBytes
    {
        get
        {
            var s = Environment.GetEnvironmentVariable("STRIX_DIST_BLOCKING_BYTES");
            if (string.IsNullOrWhiteSpace(s)) return 1L << 20;
            if (long.TryParse(s, out var v) && v >= 0) return v == 0 ? long.MaxValue : v;
            throw new ArgumentException($"STRIX_DIST_BLOCKING_BYTES='{s}' is not a byte count (0 = never)");
        }
    }

    static readonly object InitGate = new();
    static MpiProcessGroup? _current;

    readonly object _gate = new();
    readonly nint _comm;
    readonly bool _ownsMpi;
    readonly List<Tensor> _abandoned = new();   // buffers of timed-out requests: MPI may still write to them
    PosixSignalRegistration? _sigterm;
    bool _disposed;
    string? _broken;

    public string Backend => "mpi";
    public int Rank { get; }
    public int WorldSize { get; }
    public int LocalRank { get; }
    public int LocalWorldSize { get; }
    public TimeSpan Timeout { get; set; }
    /// <summary>See <see cref="DefaultBlockingThresholdBytes"/>.</summary>
    public long BlockingThresholdBytes { get; set; } = DefaultBlockingThresholdBytes;
    /// <summary>Host name as MPI reports it (MPI_Get_processor_name).</summary>
    public string HostName { get; }
    /// <summary>The MPI library's version string (MPI_Get_library_version).</summary>
    public string LibraryVersion { get; }
    /// <summary>The thread level MPI provides (we ask for MPI_THREAD_SERIALIZED; calls are serialised by a lock).</summary>
    public int ThreadLevel { get; }
    /// <summary>Set once a collective failed or timed out; further collectives throw at once.</summary>
    public bool IsBroken => _broken is not null;

    /// <summary>
    /// Initialises MPI (once per process) and returns the world group. Checks that the world MPI sees
    /// matches what the launcher announced, finds the local rank with MPI_Comm_split_type(SHARED), and
    /// cross-checks it against OMPI_COMM_WORLD_LOCAL_RANK / SLURM_LOCALID / LOCAL_RANK.
    /// </summary>
    public static MpiProcessGroup Initialize(TimeSpan? timeout = null)
    {
        lock (InitGate)
        {
            if (_current is { _disposed: false }) return _current;
            if (_current is not null) throw new InvalidOperationException("MPI was finalized in this process; it cannot be initialised again");
            MpiNative.EnsureLoaded();
            if (MpiCalls.IsFinalized()) throw new InvalidOperationException("MPI was finalized in this process; it cannot be initialised again");
            bool owns = !MpiCalls.IsInitialized();
            int provided = owns ? MpiCalls.InitThread(MpiNative.ThreadSerialized) : MpiCalls.QueryThread();
            if (provided < MpiNative.ThreadSerialized)
                Console.Error.WriteLine($"strix: warning: MPI provides thread level {provided} (< MPI_THREAD_SERIALIZED); keep every collective on one thread");
            _current = new MpiProcessGroup(owns, provided, timeout ?? DefaultTimeout, LaunchEnvironment.Detect());
            return _current;
        }
    }

    MpiProcessGroup(bool ownsMpi, int threadLevel, TimeSpan timeout, LaunchEnvironment launch)
    {
        _ownsMpi = ownsMpi;
        ThreadLevel = threadLevel;
        Timeout = timeout;
        _comm = MpiNative.CommWorld;
        MpiCalls.SetErrorsReturn(_comm);
        Rank = MpiCalls.CommRank(_comm);
        WorldSize = MpiCalls.CommSize(_comm);
        HostName = MpiCalls.ProcessorName();
        LibraryVersion = MpiCalls.LibraryVersion();

        if (launch.WorldSize is { } announced && announced != WorldSize)
            throw new InvalidOperationException(
                $"{launch.Launcher} started {announced} ranks but MPI sees a world of {WorldSize}: the MPI library is not wired to the launcher " +
                "(under Slurm use `srun --mpi=pmix` (or pmi2) with an Open MPI built for it, or launch with mpirun inside the allocation)");

        // Everybody must be alive before the blocking split below.
        TimedBarrier("startup barrier");
        var local = MpiCalls.SplitShared(_comm, Rank);
        try
        {
            LocalRank = MpiCalls.CommRank(local);
            LocalWorldSize = MpiCalls.CommSize(local);
        }
        finally { MpiCalls.CommFree(ref local); }
        if (LaunchEnvironment.LocalRankFromEnvironment() is { } envLocal && envLocal != LocalRank)
            Console.Error.WriteLine($"strix: warning: rank {Rank}: MPI's shared-memory split gives local rank {LocalRank} but the launcher says {envLocal}; using MPI's");

        AppDomain.CurrentDomain.UnhandledException += OnUnhandledException;
        try
        {
            _sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ =>
                Console.Error.WriteLine($"strix: rank {Rank} of {WorldSize} on {HostName}: terminated by the launcher (SIGTERM) — another rank failed or the job was cancelled; see the launcher's message"));
        }
        catch (PlatformNotSupportedException) { }
    }

    void OnUnhandledException(object? sender, UnhandledExceptionEventArgs e)
    {
        if (_disposed) return;
        Console.Error.WriteLine($"strix: rank {Rank} of {WorldSize}: unhandled exception, aborting the job so no rank waits for this one:\n{e.ExceptionObject}");
        Console.Error.Flush();
        MpiCalls.Abort(_comm, 1);
    }

    // ---- collectives -------------------------------------------------------------------------

    public void Barrier()
    {
        lock (_gate) { EnsureUsable(); TimedBarrier("barrier"); }
    }

    void TimedBarrier(string what)
    {
        nint req = 0;
        Start(MpiNative.Ibarrier(_comm, &req), "MPI_Ibarrier", what);
        Wait(ref req, "MPI_Ibarrier", what, null);
    }

    public void AllReduceSum(Tensor tensor)
    {
        TensorBuffers.CheckReducible(tensor);
        lock (_gate)
        {
            EnsureUsable();
            var dtype = TensorBuffers.IsNativeSumType(tensor.dtype) ? tensor.dtype : ScalarType.Float32;
            var buf = TensorBuffers.Stage(tensor, dtype, out bool staged);
            var mpiType = MpiType(dtype);
            bool blocking = buf.numel() * buf.element_size() >= BlockingThresholdBytes;
            TensorBuffers.ForEachChunk(buf, (p, n) =>
            {
                var what = $"all-reduce of {n} {dtype}";
                if (blocking)
                {
                    // Everybody is here (bounded wait), then the fast blocking algorithm under the watchdog.
                    TimedBarrier($"entry to the {what}");
                    using var watch = CollectiveWatchdog.Arm($"{what} (MPI_Allreduce)", Timeout, Rank, WorldSize);
                    int code = MpiNative.Allreduce((void*)MpiNative.InPlace, (void*)p, n, mpiType, MpiNative.OpSum, _comm);
                    Start(code, "MPI_Allreduce", what);
                    return;
                }
                nint req = 0;
                Start(MpiNative.Iallreduce((void*)MpiNative.InPlace, (void*)p, n, mpiType, MpiNative.OpSum, _comm, &req), "MPI_Iallreduce", what);
                Wait(ref req, "MPI_Iallreduce", what, buf);
            });
            if (staged) TensorBuffers.WriteBack(tensor, buf);
        }
    }

    public void Broadcast(Tensor tensor, int root = 0)
    {
        CheckRoot(root);
        lock (_gate)
        {
            EnsureUsable();
            var buf = TensorBuffers.Stage(tensor, tensor.dtype, out bool staged);
            int esize = (int)buf.element_size();
            TensorBuffers.ForEachChunk(buf, (p, count) =>
            {
                int n = count * esize; // chunks are at most 1 GiB
                var what = $"broadcast of {n} bytes from rank {root}";
                nint req = 0;
                Start(MpiNative.Ibcast((void*)p, n, MpiNative.DtByte, root, _comm, &req), "MPI_Ibcast", what);
                Wait(ref req, "MPI_Ibcast", what, buf);
            });
            if (staged) TensorBuffers.WriteBack(tensor, buf);
        }
    }

    public Tensor AllGather(Tensor tensor)
    {
        lock (_gate)
        {
            EnsureUsable();
            var headers = GatherHeaders(tensor);
            for (int r = 0; r < WorldSize; r++)
                if (!headers[r].SequenceEqual(headers[Rank]))
                    throw new ArgumentException($"all-gather needs the same shape and dtype on every rank: rank {Rank} has {Describe(headers[Rank])}, rank {r} has {Describe(headers[r])} (use AllGatherVariable for varying dim 0)");
            var buf = TensorBuffers.Stage(tensor, tensor.dtype, out bool staged);
            try
            {
                long bytes = buf.numel() * buf.element_size();
                CheckCount(bytes * WorldSize, "all-gather");
                var shape = new long[] { WorldSize }.Concat(tensor.shape).ToArray();
                var result = empty(shape, tensor.dtype, CPU);
                if (bytes > 0)
                {
                    nint req = 0;
                    var what = $"all-gather of {bytes} bytes per rank";
                    Start(MpiNative.Iallgather((void*)TensorBuffers.Pointer(buf), (int)bytes, MpiNative.DtByte,
                        (void*)TensorBuffers.Pointer(result), (int)bytes, MpiNative.DtByte, _comm, &req), "MPI_Iallgather", what);
                    Wait(ref req, "MPI_Iallgather", what, result);
                }
                return ToDevice(result, tensor.device);
            }
            finally { if (staged) buf.Dispose(); }
        }
    }

    public Tensor AllGatherVariable(Tensor tensor)
    {
        if (tensor.dim() == 0) throw new ArgumentException("AllGatherVariable needs at least one dimension (it concatenates along dim 0)");
        lock (_gate)
        {
            EnsureUsable();
            var headers = GatherHeaders(tensor);
            for (int r = 0; r < WorldSize; r++)
            {
                var a = headers[r]; var b = headers[Rank];
                bool same = a[0] == b[0] && a[1] == b[1] && a.Skip(3).SequenceEqual(b.Skip(3));
                if (!same)
                    throw new ArgumentException($"all-gather (variable) needs the same dtype and trailing dims on every rank: rank {Rank} has {Describe(b)}, rank {r} has {Describe(a)}");
            }
            var buf = TensorBuffers.Stage(tensor, tensor.dtype, out bool staged);
            try
            {
                long rowBytes = tensor.element_size();
                for (int d = 1; d < tensor.dim(); d++) rowBytes *= tensor.shape[d];
                var counts = new int[WorldSize];
                var displs = new int[WorldSize];
                long total = 0;
                for (int r = 0; r < WorldSize; r++)
                {
                    long c = headers[r][2] * rowBytes;
                    CheckCount(total + c, "all-gather (variable)");
                    counts[r] = (int)c;
                    displs[r] = (int)total;
                    total += c;
                }
                long rows = headers.Sum(h => h[2]);
                var shape = tensor.shape.ToArray();
                shape[0] = rows;
                var result = empty(shape, tensor.dtype, CPU);
                if (total > 0)
                {
                    nint req = 0;
                    var what = $"all-gather (variable) of {total} bytes";
                    fixed (int* pc = counts) fixed (int* pd = displs)
                    {
                        Start(MpiNative.Iallgatherv((void*)TensorBuffers.Pointer(buf), counts[Rank], MpiNative.DtByte,
                            (void*)TensorBuffers.Pointer(result), pc, pd, MpiNative.DtByte, _comm, &req), "MPI_Iallgatherv", what);
                        // counts/displs must stay valid until completion: wait inside the fixed block.
                        Wait(ref req, "MPI_Iallgatherv", what, result);
                    }
                }
                return ToDevice(result, tensor.device);
            }
            finally { if (staged) buf.Dispose(); }
        }
    }

    public byte[][] AllGatherBytes(ReadOnlySpan<byte> data)
    {
        using var t = tensor(data.ToArray(), ScalarType.Byte);
        using var all = AllGatherVariable(t);
        using var length = tensor(new long[] { data.Length });
        using var lengths = AllGather(length);
        var lens = lengths.data<long>().ToArray();
        var flat = all.bytes.ToArray();
        var result = new byte[WorldSize][];
        long off = 0;
        for (int r = 0; r < WorldSize; r++) { result[r] = flat.AsSpan((int)off, (int)lens[r]).ToArray(); off += lens[r]; }
        return result;
    }

    public byte[] BroadcastBytes(byte[]? data, int root = 0)
    {
        CheckRoot(root);
        if (Rank == root && data is null) throw new ArgumentNullException(nameof(data), "the root rank must supply the payload");
        using var len = tensor(new long[] { Rank == root ? data!.Length : 0 });
        Broadcast(len, root);
        long n = len.item<long>();
        using var buf = Rank == root ? tensor(data!, ScalarType.Byte) : zeros(n, ScalarType.Byte);
        Broadcast(buf, root);
        return Rank == root ? data! : buf.bytes.ToArray();
    }

    public void Abort(int exitCode, string reason)
    {
        Console.Error.WriteLine($"strix: rank {Rank} of {WorldSize} on {HostName}: aborting the job: {reason}");
        Console.Error.Flush();
        Console.Out.Flush();
        MpiCalls.Abort(_comm, exitCode == 0 ? 1 : exitCode);
        Environment.Exit(exitCode == 0 ? 1 : exitCode);
    }

    /// <summary>
    /// Plain blocking <c>MPI_Allreduce</c> (sum, in place) without barrier or watchdog — only for
    /// measuring what MPI itself reaches (bench); training code uses <see cref="AllReduceSum"/>.
    /// </summary>
    internal void BlockingAllReduceSumForBench(Tensor contiguousCpu)
    {
        lock (_gate)
        {
            EnsureUsable();
            var t = MpiType(contiguousCpu.dtype);
            TensorBuffers.ForEachChunk(contiguousCpu, (p, n) =>
                MpiCalls.Check(MpiNative.Allreduce((void*)MpiNative.InPlace, (void*)p, n, t, MpiNative.OpSum, _comm), "MPI_Allreduce"));
        }
    }

    /// <summary>
    /// Ends MPI cleanly after a bounded barrier (so a stuck peer cannot hang MPI_Finalize). A broken
    /// group, or a barrier that times out, aborts the job instead: the process then exits non-zero.
    /// </summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            if (_broken is not null) Abort(1, "a collective failed earlier: " + _broken);
            try { TimedBarrier("shutdown barrier"); }
            catch (Exception e) { Abort(1, e.Message); }
            _disposed = true;
            AppDomain.CurrentDomain.UnhandledException -= OnUnhandledException;
            _sigterm?.Dispose();
            if (_ownsMpi) MpiCalls.FinalizeMpi();
        }
    }

    // ---- helpers -------------------------------------------------------------------------------

    void EnsureUsable()
    {
        if (_disposed) throw new ObjectDisposedException(nameof(MpiProcessGroup), "MPI was finalized");
        if (_broken is not null) throw new InvalidOperationException("the process group is broken after an earlier failure: " + _broken);
    }

    void Start(int code, string call, string what)
    {
        if (code == MpiNative.Success) return;
        var e = new MpiException(call, code, MpiCalls.ErrorString(code), $"{what} on rank {Rank} of {WorldSize}");
        _broken = e.Message;
        throw e;
    }

    void Wait(ref nint req, string call, string what, Tensor? buffer)
    {
        try { MpiCalls.Wait(ref req, call, what, Timeout, Rank, WorldSize); }
        catch (Exception e)
        {
            _broken = e.Message;
            if (buffer is not null) _abandoned.Add(buffer.alias());
            throw;
        }
    }

    /// <summary>[dtype, ndim, dim0, dim1 … dim7] of every rank, to validate shapes before moving bytes.</summary>
    long[][] GatherHeaders(Tensor t)
    {
        const int maxDims = 8;
        if (t.dim() > maxDims) throw new ArgumentException($"all-gather supports up to {maxDims} dimensions");
        var h = new long[3 + maxDims - 1];
        h[0] = TensorBuffers.DtypeCode(t.dtype);
        h[1] = t.dim();
        for (int d = 0; d < t.dim(); d++) h[2 + d] = t.shape[d];
        var all = new long[h.Length * WorldSize];
        nint req = 0;
        fixed (long* ps = h) fixed (long* pr = all)
        {
            Start(MpiNative.Iallgather(ps, h.Length, MpiNative.DtInt64, pr, h.Length, MpiNative.DtInt64, _comm, &req), "MPI_Iallgather", "shape exchange");
            Wait(ref req, "MPI_Iallgather", "shape exchange", null);
        }
        return Enumerable.Range(0, WorldSize).Select(r => all.AsSpan(r * h.Length, h.Length).ToArray()).ToArray();
    }

    static string Describe(long[] h) =>
        $"{(ScalarType)h[0]}[{string.Join(", ", h.Skip(2).Take((int)h[1]))}]";

    static Tensor ToDevice(Tensor cpuResult, Device device)
    {
        if (device.type == DeviceType.CPU) return cpuResult;
        var moved = cpuResult.to(device);
        cpuResult.Dispose();
        return moved;
    }

    static void CheckCount(long bytes, string what)
    {
        if (bytes > int.MaxValue)
            throw new NotSupportedException($"{what} of {bytes} bytes exceeds MPI's 2 GiB per-call count; gather smaller pieces");
    }

    void CheckRoot(int root)
    {
        if (root < 0 || root >= WorldSize) throw new ArgumentOutOfRangeException(nameof(root), $"root {root} is not a rank of this group of {WorldSize}");
    }

    static nint MpiType(ScalarType t) => t switch
    {
        ScalarType.Float32 => MpiNative.DtFloat,
        ScalarType.Float64 => MpiNative.DtDouble,
        ScalarType.Int64 => MpiNative.DtInt64,
        ScalarType.Int32 => MpiNative.DtInt32,
        _ => throw new NotSupportedException($"no MPI reduction type for {t}"),
    };
}
