using Strix.Runtime;
using Strix.Nn;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Strix.Loss;

/// <summary>
/// YOLOv8's box losses on foreground anchors: CIoU loss and Distribution Focal Loss (Generalized
/// Focal Loss, Li et al. 2020), each weighted per anchor by its target-score sum and normalised by
/// the total target-score sum, so anchors the assigner trusts more count more.
/// </summary>
public sealed class BboxLoss
{
    /// <summary>Bins per side of the box distribution (16 in YOLOv8).</summary>
    public int RegMax { get; }

    public BboxLoss(int regMax = Detect.DefaultRegMax)
    {
        if (regMax < 2) throw new ArgumentOutOfRangeException(nameof(regMax), "need at least 2 bins");
        RegMax = regMax;
    }

    /// <summary>
    /// (CIoU loss, DFL loss), both scalars, not yet multiplied by their gains.
    /// Boxes, anchors and distances are all in grid units of each anchor's level.
    /// </summary>
    /// <param name="predDist">[B, A, 4·reg_max] distribution logits (side-major: l, t, r, b).</param>
    /// <param name="predBboxes">[B, A, 4] decoded xyxy boxes.</param>
    /// <param name="anchorPoints">[A, 2] anchor centres.</param>
    /// <param name="targetBboxes">[B, A, 4] assigned xyxy targets.</param>
    /// <param name="targetScores">[B, A, nc] soft targets from the assigner.</param>
    /// <param name="targetScoresSum">Normaliser: max(sum of target scores, 1).</param>
    /// <param name="fgMask">[B, A] foreground anchors.</param>
    public (Tensor Iou, Tensor Dfl) Compute(Tensor predDist, Tensor predBboxes, Tensor anchorPoints, Tensor targetBboxes,
                                           Tensor targetScores, Tensor targetScoresSum, Tensor fgMask)
    {
        using var scope = NewDisposeScope();
        var fg = fgMask.to(ScalarType.Bool);
        var weight = targetScores.sum(new long[] { -1 })[fg].unsqueeze(-1);             // [n, 1]
        var iou = BoxIou.CIoU(predBboxes[fg], targetBboxes[fg]).unsqueeze(-1);           // [n, 1]
        var lossIou = ((1.0 - (Held)iou) * weight).T.sum() / targetScoresSum;

        // Targets as distances, kept strictly below the last bin so the right neighbour exists.
        var targetLtrb = Anchors.BoxToDist(anchorPoints, targetBboxes, RegMax - 1);      // [B, A, 4]
        var dfl = DistributionFocalLoss(predDist[fg], targetLtrb[fg]).unsqueeze(-1) * weight;
        var lossDfl = dfl.sum() / targetScoresSum;
        return (lossIou.MoveToOuterDisposeScope(), lossDfl.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// DFL per anchor, averaged over the 4 sides: cross-entropy of the distribution against the two
    /// bins around the target distance y, weighted (⌈y⌉ − y) for the left bin ⌊y⌋ and (y − ⌊y⌋) for the
    /// right one, so the loss is minimal when the expected distance equals y.
    /// </summary>
    /// <param name="predDist">[n, 4·reg_max] (or [n, 4, reg_max]) logits.</param>
    /// <param name="target">[n, 4] distances in [0, reg_max − 1).</param>
    /// <returns>[n] loss per anchor.</returns>
    public Tensor DistributionFocalLoss(Tensor predDist, Tensor target)
    {
        using var scope = NewDisposeScope();
        long n = target.shape[0];
        var logits = predDist.reshape(-1, RegMax);                                      // [n·4, reg_max]
        var t = target.reshape(-1);
        Held tl = t.to(ScalarType.Int64);                                                // floor for t ≥ 0
        Held tr = tl + 1;
        Held wl = tr.T.to(t.dtype) - t;
        Held wr = 1 - wl;
        Held ce = (Held)F.cross_entropy(logits, tl.T, reduction: nn.Reduction.None) * wl
                + (Held)F.cross_entropy(logits, tr.T, reduction: nn.Reduction.None) * wr;
        return ce.T.view(n, 4).mean(new long[] { -1 }).MoveToOuterDisposeScope();
    }
}
