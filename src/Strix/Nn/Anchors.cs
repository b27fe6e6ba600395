using Strix.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Strix.Nn;

/// <summary>Anchor points (cell centres) and the distance↔box conversions of anchor-free YOLO.</summary>
public static class Anchors
{
    /// <summary>
    /// Cell-centre anchor points in grid units for each level, concatenated: ([A, 2] xy, [A, 1] stride).
    /// Made from the actual feature-map sizes, so any input size divisible by 32 works.
    /// </summary>
    public static (Tensor Points, Tensor Strides) Make(Tensor[] feats, float[] strides, double offset = 0.5)
    {
        using var scope = NewDisposeScope();
        var pts = new List<Tensor>();
        var sts = new List<Tensor>();
        var dtype = feats[0].dtype == ScalarType.BFloat16 || feats[0].dtype == ScalarType.Float16 ? ScalarType.Float32 : feats[0].dtype;
        var device = feats[0].device;
        for (int i = 0; i < feats.Length; i++)
        {
            long h = feats[i].shape[2], w = feats[i].shape[3];
            var sx = ((Held)HeldScalarMath.Arange(w, dtype, device) + offset).T;
            var sy = ((Held)HeldScalarMath.Arange(h, dtype, device) + offset).T;
            var grid = meshgrid(new[] { sy, sx }, indexing: "ij");
            pts.Add(stack(new[] { grid[1], grid[0] }, -1).view(-1, 2));
            using var stride = ((double)strides[i]).ToScalar();
            sts.Add(full(new long[] { h * w, 1 }, stride, dtype: dtype, device: device));
        }
        return (cat(pts, 0).MoveToOuterDisposeScope(), cat(sts, 0).MoveToOuterDisposeScope());
    }

    /// <summary>(left, top, right, bottom) distances from anchor points → xyxy or xywh boxes.</summary>
    public static Tensor DistToBox(Tensor distance, Tensor anchorPoints, bool xywh = true, long dim = -1)
    {
        using var scope = NewDisposeScope();
        var lt_rb = distance.chunk(2, dim);
        Held anchors = anchorPoints, x1y1 = anchors - lt_rb[0], x2y2 = anchors + lt_rb[1];
        Tensor r = xywh ? cat(new[] { ((x1y1 + x2y2) / 2).T, (x2y2 - x1y1).T }, dim) : cat(new[] { x1y1.T, x2y2.T }, dim);
        return r.MoveToOuterDisposeScope();
    }

    /// <summary>xyxy boxes → (left, top, right, bottom) distances from anchor points, clamped to [0, regMax − 0.01].</summary>
    public static Tensor BoxToDist(Tensor anchorPoints, Tensor xyxy, double regMax)
    {
        using var scope = NewDisposeScope();
        var parts = xyxy.chunk(2, -1);
        using var max = (regMax - 0.01).ToScalar();
        return cat(new[] { anchorPoints - parts[0], parts[1] - anchorPoints }, -1).clamp_(Scalars.Zero, max).MoveToOuterDisposeScope();
    }
}
