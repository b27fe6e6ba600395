using Strix.Eval;
using Strix.Runtime;
using static TorchSharp.torch;

namespace Strix.Loss;

/// <summary>
/// The task-aligned assigner for oriented boxes (xywhr, angle in radians), as YOLOv8-OBB trains: the same top-k rule on
/// s^α · u^β, with u the ProbIoU of the predicted and the gt rotated box, and an anchor a candidate of a gt when its
/// centre lies inside the gt's rotated rectangle (edges included).
/// </summary>
public sealed class RotatedTaskAlignedAssigner(int numClasses, int topk = 10, double alpha = 0.5, double beta = 6.0, double eps = 1e-9)
    : TaskAlignedAssigner(numClasses, topk, alpha, beta, eps)
{
    public override int BoxDim => 5;

    protected override Tensor PairOverlaps(Tensor gtBoxes, Tensor predBoxes)
    {
        using var scope = NewDisposeScope();
        return RotatedBoxes.ProbIouPairs(gtBoxes, predBoxes).clamp_min(Scalars.Zero).MoveToOuterDisposeScope();
    }

    protected override Tensor Candidates(Tensor anchorPoints, Tensor gtBoxes) => CandidatesInRotatedGts(anchorPoints, gtBoxes);

    /// <summary>
    /// [B, M, A] true where anchor a's centre lies inside (or on the edge of) gt m's rotated box: projected on two
    /// adjacent edges from one corner, it falls within both edges' lengths.
    /// </summary>
    /// <param name="anchorPoints">[A, 2] pixels.</param>
    /// <param name="gtBoxes">[B, M, 5] xywhr pixels.</param>
    public static Tensor CandidatesInRotatedGts(Tensor anchorPoints, Tensor gtBoxes)
    {
        using var scope = NewDisposeScope();
        long b = gtBoxes.shape[0], m = gtBoxes.shape[1];
        var corners = RotatedBoxes.Corners(gtBoxes.reshape(-1, 5)).view(b, m, 4, 2);
        var a = corners.select(2, 0);                                                   // [B, M, 2]
        var ab = corners.select(2, 1).sub(a);
        var ad = corners.select(2, 3).sub(a);
        var x = anchorPoints.select(1, 0).view(1, 1, -1);                               // [1, 1, A]
        var y = anchorPoints.select(1, 1).view(1, 1, -1);
        var apx = x.sub(a.select(2, 0).unsqueeze(-1));                                  // [B, M, A]
        var apy = y.sub(a.select(2, 1).unsqueeze(-1));
        // Each anchor's offset from corner a, projected on edges ab and ad (unnormalised), and those edges' squared lengths.
        var pab = apx.mul(ab.select(2, 0).unsqueeze(-1)).Plus(apy.mul(ab.select(2, 1).unsqueeze(-1)));
        var pad = apx.mul(ad.select(2, 0).unsqueeze(-1)).Plus(apy.mul(ad.select(2, 1).unsqueeze(-1)));
        var abLen2 = ab.mul(ab).sum(2).unsqueeze(-1);
        var adLen2 = ad.mul(ad).sum(2).unsqueeze(-1);
        var inside = pab.ge(Scalars.Zero).logical_and(pab.le(abLen2)).logical_and(pad.ge(Scalars.Zero)).logical_and(pad.le(adLen2));
        return inside.MoveToOuterDisposeScope();
    }
}
