using Strix.Runtime;
using static Strix.Runtime.Held;
using static TorchSharp.torch;

namespace Strix.Loss;

/// <summary>Which overlap measure <see cref="BoxIou.Compute"/> returns.</summary>
public enum IouKind
{
    /// <summary>Intersection over union.</summary>
    Iou,
    /// <summary>Generalised IoU: IoU − (enclosing area − union) / enclosing area.</summary>
    GIoU,
    /// <summary>Distance IoU: IoU − centre distance² / enclosing diagonal².</summary>
    DIoU,
    /// <summary>Complete IoU: DIoU − α·v, where v penalises the aspect-ratio difference.</summary>
    CIoU,
}

/// <summary>
/// Overlap of aligned box pairs in xyxy form: element i of the first tensor against element i of the
/// second (any leading shape, last dimension 4, broadcasting allowed). The result drops the last
/// dimension. Follows YOLOv8's definitions, including where the small eps enters (box heights, the
/// union, the enclosing diagonal), so losses match the reference to float precision.
/// </summary>
public static class BoxIou
{
    /// <summary>The eps YOLOv8 uses for box overlaps.</summary>
    public const double DefaultEps = 1e-7;

    /// <summary>IoU of aligned xyxy box pairs.</summary>
    public static Tensor Iou(Tensor box1, Tensor box2, double eps = DefaultEps) => Compute(box1, box2, IouKind.Iou, eps);

    /// <summary>Generalised IoU of aligned xyxy box pairs.</summary>
    public static Tensor GIoU(Tensor box1, Tensor box2, double eps = DefaultEps) => Compute(box1, box2, IouKind.GIoU, eps);

    /// <summary>Distance IoU of aligned xyxy box pairs.</summary>
    public static Tensor DIoU(Tensor box1, Tensor box2, double eps = DefaultEps) => Compute(box1, box2, IouKind.DIoU, eps);

    /// <summary>Complete IoU of aligned xyxy box pairs (the YOLOv8 box loss and assigner measure).</summary>
    public static Tensor CIoU(Tensor box1, Tensor box2, double eps = DefaultEps) => Compute(box1, box2, IouKind.CIoU, eps);

    /// <summary>
    /// Overlap of aligned xyxy box pairs. For CIoU the trade-off weight α = v / (v − IoU + 1 + eps) is
    /// treated as a constant (computed without gradient), as in the CIoU paper and YOLOv8.
    /// </summary>
    public static Tensor Compute(Tensor box1, Tensor box2, IouKind kind, double eps = DefaultEps)
    {
        if (box1.shape[^1] != 4 || box2.shape[^1] != 4)
            throw new ArgumentException($"boxes must have 4 coordinates in the last dimension (got [{string.Join(", ", box1.shape)}] and [{string.Join(", ", box2.shape)}])");
        using var scope = NewDisposeScope();
        var a = box1.unbind(-1);
        var b = box2.unbind(-1);
        Held ax1 = a[0], ay1 = a[1], ax2 = a[2], ay2 = a[3];
        Held bx1 = b[0], by1 = b[1], bx2 = b[2], by2 = b[3];
        Held w1 = ax2 - ax1, h1 = ay2 - ay1 + eps;
        Held w2 = bx2 - bx1, h2 = by2 - by1 + eps;

        Held inter = (Min(ax2, bx2) - Max(ax1, bx1)).ClampMin0() * (Min(ay2, by2) - Max(ay1, by1)).ClampMin0();
        Held union = w1 * h1 + w2 * h2 - inter + eps;
        Held iou = inter / union;
        if (kind == IouKind.Iou) return iou.T.MoveToOuterDisposeScope();

        // Smallest enclosing box.
        Held cw = Max(ax2, bx2) - Min(ax1, bx1);
        Held ch = Max(ay2, by2) - Min(ay1, by1);
        if (kind == IouKind.GIoU)
        {
            Held cArea = cw * ch + eps;
            return (iou - (cArea - union) / cArea).T.MoveToOuterDisposeScope();
        }

        Held c2 = cw * cw + ch * ch + eps;                                                 // enclosing diagonal²
        Held dx = bx1 + bx2 - ax1 - ax2;
        Held dy = by1 + by2 - ay1 - ay2;
        Held rho2 = (dx * dx + dy * dy) / 4;                                               // centre distance²
        if (kind == IouKind.DIoU) return (iou - rho2 / c2).T.MoveToOuterDisposeScope();

        Held dAtan = Atan(w2 / h2) - Atan(w1 / h1);
        Held v = dAtan * dAtan * (4 / (Math.PI * Math.PI));
        Held alpha;
        using (no_grad()) alpha = v / (v - iou + (1 + eps));
        return (iou - (rho2 / c2 + v * alpha)).T.MoveToOuterDisposeScope();
    }
}
