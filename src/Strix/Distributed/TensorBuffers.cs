using TorchSharp;
using static TorchSharp.torch;

namespace Strix.Distributed;

/// <summary>
/// Host-memory staging for collectives. MPI reads and writes plain contiguous CPU memory: a CPU
/// contiguous tensor is used in place; anything else (a strided view, a CUDA tensor — Open MPI here
/// is not CUDA-aware) goes through a contiguous host copy that is written back afterwards.
/// </summary>
internal static class TensorBuffers
{
    /// <summary>Largest byte span handed to one MPI call (MPI counts are 32-bit ints).</summary>
    public const long MaxChunkBytes = 1L << 30;

    /// <summary>Element types MPI sums natively; float16/bfloat16 are summed in float32.</summary>
    public static bool IsNativeSumType(ScalarType t) => t is ScalarType.Float32 or ScalarType.Float64 or ScalarType.Int64 or ScalarType.Int32;

    public static void CheckReducible(Tensor t)
    {
        if (!IsNativeSumType(t.dtype) && t.dtype is not (ScalarType.Float16 or ScalarType.BFloat16))
            throw new NotSupportedException($"all-reduce sum supports float32, float64, int64, int32 (float16/bfloat16 via float32), not {t.dtype}");
    }

    /// <summary>
    /// A contiguous CPU tensor holding <paramref name="t"/>'s values as <paramref name="dtype"/>:
    /// <paramref name="t"/> itself when it already is one (<paramref name="staged"/> false), else a copy
    /// to write back with <see cref="WriteBack"/>.
    /// </summary>
    public static Tensor Stage(Tensor t, ScalarType dtype, out bool staged)
    {
        if (t.device_type == DeviceType.CPU && t.is_contiguous() && t.dtype == dtype) { staged = false; return t; }
        staged = true;
        using var scope = NewDisposeScope();
        return t.to(dtype, CPU).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>Copies a staged buffer back into the caller's tensor (device and dtype converted by <c>copy_</c>).</summary>
    public static void WriteBack(Tensor target, Tensor staged)
    {
        using (no_grad()) target.copy_(staged);
        staged.Dispose();
    }

    /// <summary>Runs <paramref name="action"/> on consecutive chunks of a contiguous CPU tensor: (pointer, element count).</summary>
    public static unsafe void ForEachChunk(Tensor contiguousCpu, Action<nint, int> action)
    {
        long n = contiguousCpu.numel();
        if (n == 0) return;
        long esize = contiguousCpu.element_size();
        long chunk = Math.Max(1, MaxChunkBytes / esize);
        using var flat = contiguousCpu.view(-1);
        for (long off = 0; off < n; off += chunk)
        {
            long len = Math.Min(chunk, n - off);
            using var part = flat.narrow(0, off, len);
            fixed (byte* p = part.bytes) action((nint)p, (int)len);
        }
    }

    /// <summary>Pointer to a contiguous CPU tensor's first byte (0 when empty). The tensor must outlive its use.</summary>
    public static unsafe nint Pointer(Tensor contiguousCpu)
    {
        if (contiguousCpu.numel() == 0) return 0;
        fixed (byte* p = contiguousCpu.bytes) return (nint)p;
    }

    /// <summary>Stable small code for a dtype, exchanged between ranks to validate collectives.</summary>
    public static long DtypeCode(ScalarType t) => (long)t;
}
