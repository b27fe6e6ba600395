using TorchSharp;
using static TorchSharp.torch;

namespace Strix.Runtime;

/// <summary>
/// A tensor's values as a managed array, from any device, dtype and layout, in row-major order. The
/// conversions (detach, dtype, CPU copy, contiguous) run inside a DisposeScope, so none of their
/// temporaries can be freed by TorchSharp's finalizer while the next one reads it (see <see cref="Scalars"/>).
/// </summary>
public static class TensorArrays
{
    /// <remarks>An empty tensor gives an empty array (TorchSharp's accessor throws on one: a batch of background images has no boxes).</remarks>
    public static float[] Floats(Tensor t)
    {
        if (t.numel() == 0) return Array.Empty<float>();
        using var scope = NewDisposeScope();
        return t.detach().to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
    }

    public static int[] Ints(Tensor t)
    {
        if (t.numel() == 0) return Array.Empty<int>();
        using var scope = NewDisposeScope();
        return t.detach().to(ScalarType.Int32).cpu().contiguous().data<int>().ToArray();
    }

    /// <summary>
    /// The values as bytes (uint8), copied in one block from the CPU storage: masks run to millions of values, where
    /// TorchSharp's element accessor costs nanoseconds per value.
    /// </summary>
    public static byte[] Bytes(Tensor t)
    {
        if (t.numel() == 0) return Array.Empty<byte>();
        using var scope = NewDisposeScope();
        return t.detach().to(ScalarType.Byte).cpu().contiguous().bytes.ToArray();
    }
}
