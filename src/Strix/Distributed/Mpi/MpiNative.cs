using System.Runtime.InteropServices;

namespace Strix.Distributed.Mpi;

/// <summary>
/// The raw entry points of the system's Open MPI library (<c>libmpi.so.40</c>), resolved at run time.
/// Open MPI's handles (<c>MPI_COMM_WORLD</c>, <c>MPI_FLOAT</c>, <c>MPI_SUM</c>, …) are the addresses of
/// exported global objects (<c>ompi_mpi_comm_world</c>, …), so they are looked up as symbols too.
/// Resolving by hand (rather than <c>[DllImport]</c>) lets a missing MPI surface as one clear message at
/// the moment distributed training is asked for, never at assembly load.
/// Every function returns an MPI error code (0 = MPI_SUCCESS); <see cref="Mpi"/> turns them into exceptions.
/// </summary>
internal static unsafe class MpiNative
{
    public const int Success = 0;
    public const int ThreadSingle = 0, ThreadFunneled = 1, ThreadSerialized = 2, ThreadMultiple = 3;
    public const int CommTypeShared = 0;      // MPI_COMM_TYPE_SHARED (first value of the enum in mpi.h)
    public const int MaxErrorString = 256;    // MPI_MAX_ERROR_STRING
    public const int MaxProcessorName = 256;  // MPI_MAX_PROCESSOR_NAME
    public const int MaxLibraryVersionString = 256; // MPI_MAX_LIBRARY_VERSION_STRING
    public static readonly nint InPlace = 1;  // MPI_IN_PLACE

    static readonly object Gate = new();
    static bool _loaded;
    static string? _loadError;

    /// <summary>The path or name the library was loaded from.</summary>
    public static string LibraryName { get; private set; } = "";

    // Handles (addresses of Open MPI's predefined objects).
    public static nint CommWorld, CommNull, DtFloat, DtDouble, DtInt64, DtInt32, DtByte, OpSum, OpMax, ErrorsReturn, InfoNull, RequestNull;

    // Functions.
    public static delegate* unmanaged[Cdecl]<int*, byte***, int, int*, int> Init_thread;
    public static delegate* unmanaged[Cdecl]<int*, int> Initialized;
    public static delegate* unmanaged[Cdecl]<int*, int> Finalized;
    public static delegate* unmanaged[Cdecl]<int> Finalize;
    public static delegate* unmanaged[Cdecl]<nint, int, int> Abort;
    public static delegate* unmanaged[Cdecl]<int*, int> Query_thread;
    public static delegate* unmanaged[Cdecl]<nint, int*, int> Comm_rank;
    public static delegate* unmanaged[Cdecl]<nint, int*, int> Comm_size;
    public static delegate* unmanaged[Cdecl]<nint, int, int, nint, nint*, int> Comm_split_type;
    public static delegate* unmanaged[Cdecl]<nint*, int> Comm_free;
    public static delegate* unmanaged[Cdecl]<nint, nint, int> Comm_set_errhandler;
    public static delegate* unmanaged[Cdecl]<int, byte*, int*, int> Error_string;
    public static delegate* unmanaged[Cdecl]<byte*, int*, int> Get_processor_name;
    public static delegate* unmanaged[Cdecl]<byte*, int*, int> Get_library_version;
    public static delegate* unmanaged[Cdecl]<void*, void*, int, nint, nint, nint, nint*, int> Iallreduce;
    public static delegate* unmanaged[Cdecl]<void*, void*, int, nint, nint, nint, int> Allreduce;
    public static delegate* unmanaged[Cdecl]<void*, int, nint, int, nint, nint*, int> Ibcast;
    public static delegate* unmanaged[Cdecl]<nint, nint*, int> Ibarrier;
    public static delegate* unmanaged[Cdecl]<void*, int, nint, void*, int, nint, nint, nint*, int> Iallgather;
    public static delegate* unmanaged[Cdecl]<void*, int, nint, void*, int*, int*, nint, nint, nint*, int> Iallgatherv;
    public static delegate* unmanaged[Cdecl]<nint*, int*, void*, int> Test;

    /// <summary>Loads the library once; throws <see cref="DllNotFoundException"/> with install advice when it is missing.</summary>
    public static void EnsureLoaded()
    {
        lock (Gate)
        {
            if (_loaded) return;
            if (_loadError is not null) throw new DllNotFoundException(_loadError);
            try { Load(); _loaded = true; }
            catch (Exception e) { _loadError = e.Message; throw new DllNotFoundException(e.Message, e); }
        }
    }

    /// <summary>True when an Open MPI library can be loaded (used to explain, not to decide silently).</summary>
    public static bool TryEnsureLoaded(out string? error)
    {
        try { EnsureLoaded(); error = null; return true; }
        catch (DllNotFoundException e) { error = e.Message; return false; }
    }

    static IEnumerable<string> Candidates()
    {
        var custom = Environment.GetEnvironmentVariable("STRIX_MPI_LIBRARY");
        if (!string.IsNullOrWhiteSpace(custom)) { yield return custom; yield break; }
        if (OperatingSystem.IsMacOS()) { yield return "libmpi.40.dylib"; yield return "libmpi.dylib"; yield break; }
        yield return "libmpi.so.40";
        yield return "libmpi.so";
    }

    static void Load()
    {
        if (OperatingSystem.IsWindows())
            throw new PlatformNotSupportedException("Strix binds to Open MPI, which does not support Windows (MS-MPI uses a different ABI)");
        nint lib = 0;
        var tried = new List<string>();
        foreach (var name in Candidates())
        {
            // Open MPI's plugins expect libmpi's symbols in the global namespace (mpi4py does the same):
            // load it RTLD_GLOBAL first, then take a handle through the runtime.
            GlobalDlopen(name);
            if (NativeLibrary.TryLoad(name, out lib)) { LibraryName = name; break; }
            tried.Add(name);
        }
        if (lib == 0)
            throw new DllNotFoundException(
                $"the Open MPI library could not be loaded (tried {string.Join(", ", tried)}). Install Open MPI " +
                "(Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev) or point STRIX_MPI_LIBRARY at libmpi.so.40");

        nint Sym(string s) => NativeLibrary.TryGetExport(lib, s, out var a) ? a
            : throw new DllNotFoundException($"{LibraryName} does not export '{s}': Strix needs Open MPI 4.x or 5.x (MPICH and Intel MPI have a different ABI)");

        CommWorld = Sym("ompi_mpi_comm_world");
        CommNull = Sym("ompi_mpi_comm_null");
        DtFloat = Sym("ompi_mpi_float");
        DtDouble = Sym("ompi_mpi_double");
        DtInt64 = Sym("ompi_mpi_int64_t");
        DtInt32 = Sym("ompi_mpi_int");
        DtByte = Sym("ompi_mpi_byte");
        OpSum = Sym("ompi_mpi_op_sum");
        OpMax = Sym("ompi_mpi_op_max");
        ErrorsReturn = Sym("ompi_mpi_errors_return");
        InfoNull = Sym("ompi_mpi_info_null");
        RequestNull = Sym("ompi_request_null");

        Init_thread = (delegate* unmanaged[Cdecl]<int*, byte***, int, int*, int>)Sym("MPI_Init_thread");
        Initialized = (delegate* unmanaged[Cdecl]<int*, int>)Sym("MPI_Initialized");
        Finalized = (delegate* unmanaged[Cdecl]<int*, int>)Sym("MPI_Finalized");
        Finalize = (delegate* unmanaged[Cdecl]<int>)Sym("MPI_Finalize");
        Abort = (delegate* unmanaged[Cdecl]<nint, int, int>)Sym("MPI_Abort");
        Query_thread = (delegate* unmanaged[Cdecl]<int*, int>)Sym("MPI_Query_thread");
        Comm_rank = (delegate* unmanaged[Cdecl]<nint, int*, int>)Sym("MPI_Comm_rank");
        Comm_size = (delegate* unmanaged[Cdecl]<nint, int*, int>)Sym("MPI_Comm_size");
        Comm_split_type = (delegate* unmanaged[Cdecl]<nint, int, int, nint, nint*, int>)Sym("MPI_Comm_split_type");
        Comm_free = (delegate* unmanaged[Cdecl]<nint*, int>)Sym("MPI_Comm_free");
        Comm_set_errhandler = (delegate* unmanaged[Cdecl]<nint, nint, int>)Sym("MPI_Comm_set_errhandler");
        Error_string = (delegate* unmanaged[Cdecl]<int, byte*, int*, int>)Sym("MPI_Error_string");
        Get_processor_name = (delegate* unmanaged[Cdecl]<byte*, int*, int>)Sym("MPI_Get_processor_name");
        Get_library_version = (delegate* unmanaged[Cdecl]<byte*, int*, int>)Sym("MPI_Get_library_version");
        Iallreduce = (delegate* unmanaged[Cdecl]<void*, void*, int, nint, nint, nint, nint*, int>)Sym("MPI_Iallreduce");
        Allreduce = (delegate* unmanaged[Cdecl]<void*, void*, int, nint, nint, nint, int>)Sym("MPI_Allreduce");
        Ibcast = (delegate* unmanaged[Cdecl]<void*, int, nint, int, nint, nint*, int>)Sym("MPI_Ibcast");
        Ibarrier = (delegate* unmanaged[Cdecl]<nint, nint*, int>)Sym("MPI_Ibarrier");
        Iallgather = (delegate* unmanaged[Cdecl]<void*, int, nint, void*, int, nint, nint, nint*, int>)Sym("MPI_Iallgather");
        Iallgatherv = (delegate* unmanaged[Cdecl]<void*, int, nint, void*, int*, int*, nint, nint, nint*, int>)Sym("MPI_Iallgatherv");
        Test = (delegate* unmanaged[Cdecl]<nint*, int*, void*, int>)Sym("MPI_Test");
    }

    const int RtldNow = 0x2, RtldGlobal = 0x100;

    /// <summary><c>dlopen(name, RTLD_NOW | RTLD_GLOBAL)</c> through glibc; best effort (the handle is kept for the process lifetime).</summary>
    static void GlobalDlopen(string name)
    {
        if (!OperatingSystem.IsLinux()) return;
        foreach (var libc in new[] { "libc.so.6", "libdl.so.2" })
        {
            if (!NativeLibrary.TryLoad(libc, out var h)) continue;
            if (!NativeLibrary.TryGetExport(h, "dlopen", out var f)) continue;
            var dlopen = (delegate* unmanaged[Cdecl]<byte*, int, nint>)f;
            var bytes = System.Text.Encoding.UTF8.GetBytes(name + "\0");
            fixed (byte* p = bytes) dlopen(p, RtldNow | RtldGlobal);
            return;
        }
    }
}
