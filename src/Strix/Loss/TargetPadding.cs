using Strix.Runtime;
using static TorchSharp.torch;

namespace Strix.Loss;

/// <summary>Flat batch targets (one row per object, with its image index) → per-image lists padded with zero rows.</summary>
internal static class TargetPadding
{
    /// <summary>
    /// <paramref name="rows"/> [N, ...] by image → [B, M, ...], M the most objects of any image, each image's rows in
    /// their input order and zeros after them. <paramref name="imageIndex"/> [N] int64 in 0..B−1.
    /// </summary>
    public static Tensor Pad(Tensor imageIndex, Tensor rows, long batchSize)
    {
        using var scope = NewDisposeScope();
        long n = imageIndex.numel();
        var shape = new List<long> { batchSize, 0 };
        shape.AddRange(rows.shape.Skip(1));
        if (n == 0) return zeros(shape.ToArray(), rows.dtype, rows.device).MoveToOuterDisposeScope();
        var counts = imageIndex.bincount(null, batchSize);
        shape[1] = counts.max().item<long>();
        var (sorted, order) = imageIndex.sort(stable: true);
        var starts = counts.cumsum(0) - counts;
        var pos = HeldScalarMath.Arange(n, ScalarType.Int64, rows.device) - starts.index_select(0, sorted);
        return zeros(shape.ToArray(), rows.dtype, rows.device).index_put_(rows.index_select(0, order), sorted, pos).MoveToOuterDisposeScope();
    }
}
