using Strix.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Strix.Loss;

/// <summary>
/// What <see cref="TaskAlignedAssigner.Assign"/> decides for every anchor of every image.
/// Background anchors have <see cref="FgMask"/> false and all-zero <see cref="TargetScores"/>;
/// their labels, boxes and indices are those of gt 0 and carry no meaning.
/// </summary>
public sealed record Assignment(
    Tensor TargetLabels,   // [B, A] long
    Tensor TargetBboxes,   // [B, A, 4] xyxy, same units as the gt boxes
    Tensor TargetScores,   // [B, A, nc] one-hot × normalised alignment
    Tensor FgMask,         // [B, A] bool
    Tensor TargetGtIdx     // [B, A] long, index into the image's gt list
) : IDisposable
{
    public void Dispose()
    {
        TargetLabels.Dispose();
        TargetBboxes.Dispose();
        TargetScores.Dispose();
        FgMask.Dispose();
        TargetGtIdx.Dispose();
    }
}

/// <summary>
/// Task-aligned label assignment of TOOD, as YOLOv8 uses it. For each gt, the candidate anchors are
/// those whose centre lies inside the gt box; each candidate is ranked by the alignment metric
/// t = s^α · u^β (s: the predicted score of the gt's class, u: CIoU of the predicted box with the gt,
/// clamped at 0) and the top-k become positives. An anchor claimed by several gts keeps only the
/// claimant it overlaps most. Soft targets are t normalised per gt so that the best anchor of each gt
/// gets that gt's best IoU.
/// </summary>
/// <remarks>
/// One deliberate difference from Ultralytics: a multiply-claimed anchor goes to the best-overlapping
/// gt <em>among those that claimed it</em>; Ultralytics takes the argmax over every gt, which can hand
/// the anchor to a gt that never selected it (or, when all overlaps are 0, to gt 0). Restricting the
/// choice keeps the invariants: each gt gets at most top-k anchors, all inside its box. On the nested-box
/// fixture case (15 contested anchors) the loss items differ from the Ultralytics rule by under 0.2 %.
/// </remarks>
public class TaskAlignedAssigner
{
    public int TopK { get; }
    public int NumClasses { get; }
    public double Alpha { get; }
    public double Beta { get; }
    public double Eps { get; }

    /// <summary>Numbers per box: 4 (xyxy) here, 5 (xywhr) for oriented boxes.</summary>
    public virtual int BoxDim => 4;

    /// <summary>Overlap of paired boxes [P, BoxDim] → [P], clamped at 0: CIoU here, ProbIoU for oriented boxes.</summary>
    protected virtual Tensor PairOverlaps(Tensor gtBoxes, Tensor predBoxes)
    {
        using var scope = NewDisposeScope();
        return BoxIou.CIoU(gtBoxes, predBoxes).clamp_min(Scalars.Zero).MoveToOuterDisposeScope();
    }

    /// <summary>[B, M, A]: whether each anchor centre lies inside each gt box (the candidates of that gt).</summary>
    protected virtual Tensor Candidates(Tensor anchorPoints, Tensor gtBoxes) => CandidatesInGts(anchorPoints, gtBoxes, Eps);

    public TaskAlignedAssigner(int numClasses, int topk = 10, double alpha = 0.5, double beta = 6.0, double eps = 1e-9)
    {
        if (numClasses < 1) throw new ArgumentOutOfRangeException(nameof(numClasses), "need at least one class");
        if (topk < 1) throw new ArgumentOutOfRangeException(nameof(topk), "topk must be at least 1");
        NumClasses = numClasses;
        TopK = topk;
        Alpha = alpha;
        Beta = beta;
        Eps = eps;
    }

    /// <summary>
    /// Assigns targets to anchors. No gradient flows through the assignment.
    /// </summary>
    /// <param name="pdScores">[B, A, nc] predicted class probabilities (after sigmoid).</param>
    /// <param name="pdBboxes">[B, A, 4] predicted boxes, xyxy pixels.</param>
    /// <param name="anchorPoints">[A, 2] anchor centres, pixels.</param>
    /// <param name="gtLabels">[B, M, 1] class indices (any numeric type).</param>
    /// <param name="gtBboxes">[B, M, 4] gt boxes, xyxy pixels.</param>
    /// <param name="maskGt">[B, M, 1] true (or 1) for real gts, false for the padding of short gt lists.</param>
    public Assignment Assign(Tensor pdScores, Tensor pdBboxes, Tensor anchorPoints, Tensor gtLabels, Tensor gtBboxes, Tensor maskGt)
    {
        if (pdScores.dim() != 3 || pdScores.shape[2] != NumClasses)
            throw new ArgumentException($"pdScores must be [B, A, {NumClasses}], got [{string.Join(", ", pdScores.shape)}]");
        long bs = pdScores.shape[0], na = pdScores.shape[1], nmax = gtBboxes.shape[1];
        if (pdBboxes.dim() != 3 || pdBboxes.shape[0] != bs || pdBboxes.shape[1] != na || pdBboxes.shape[2] != BoxDim)
            throw new ArgumentException($"pdBboxes must be [{bs}, {na}, {BoxDim}], got [{string.Join(", ", pdBboxes.shape)}]");
        if (anchorPoints.dim() != 2 || anchorPoints.shape[0] != na || anchorPoints.shape[1] != 2)
            throw new ArgumentException($"anchorPoints must be [{na}, 2], got [{string.Join(", ", anchorPoints.shape)}]");
        if (gtBboxes.dim() != 3 || gtBboxes.shape[0] != bs || gtBboxes.shape[2] != BoxDim)
            throw new ArgumentException($"gtBboxes must be [{bs}, M, {BoxDim}], got [{string.Join(", ", gtBboxes.shape)}]");

        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var device = pdScores.device;

        using var background = ((long)NumClasses).ToScalar();
        using var lastClass = (NumClasses - 1L).ToScalar();
        if (nmax == 0)
        {
            return Keep(new Assignment(
                full(new long[] { bs, na }, background, dtype: ScalarType.Int64, device: device),
                zeros_like(pdBboxes),
                zeros_like(pdScores),
                zeros(new long[] { bs, na }, dtype: ScalarType.Bool, device: device),
                zeros(new long[] { bs, na }, dtype: ScalarType.Int64, device: device)));
        }

        var labels = gtLabels.reshape(bs, nmax).to(ScalarType.Int64);                 // [B, M]
        var gboxes = gtBboxes.to(ScalarType.Float32);
        var (maskPos, alignMetric, overlaps) = PositiveMask(pdScores, pdBboxes, anchorPoints, gtLabels, gtBboxes, maskGt);
        var fgMask = maskPos.sum(1) > Scalars.Zero;                                              // [B, A]
        // At most one positive per anchor now, so a weighted sum finds its gt (faster than argmax over M).
        var gtIndex = HeldScalarMath.Arange(nmax, ScalarType.Float32, maskPos.device).view(1, -1, 1);
        var targetGtIdx = (maskPos * gtIndex).sum(1).to(ScalarType.Int64);              // [B, A]

        // Targets of each anchor's gt.
        var targetLabels = labels.gather(1, targetGtIdx).clamp_(Scalars.Zero, lastClass);        // [B, A]
        var targetBboxes = gboxes.gather(1, targetGtIdx.unsqueeze(-1).expand(bs, na, BoxDim));
        var targetScores = nn.functional.one_hot(targetLabels, NumClasses).to(ScalarType.Float32)
                           * fgMask.unsqueeze(-1).to(ScalarType.Float32);               // [B, A, nc]

        // Normalise: per gt, metric / max metric × max IoU; per anchor, from its gt.
        alignMetric = alignMetric * maskPos;
        var posAlign = alignMetric.amax(new long[] { -1 }, keepdim: true);              // [B, M, 1]
        var posOverlap = (overlaps * maskPos).amax(new long[] { -1 }, keepdim: true);   // [B, M, 1]
        // Max over gts of non-negative values with at most one non-zero per anchor: a sum.
        var norm = (alignMetric * posOverlap / ((Held)posAlign + Eps).T).sum(1).unsqueeze(-1); // [B, A, 1]
        targetScores = (targetScores * norm).to(pdScores.dtype);

        return Keep(new Assignment(targetLabels, targetBboxes.to(gtBboxes.dtype), targetScores, fgMask, targetGtIdx));
    }

    /// <summary>
    /// The positive mask [B, M, A] after top-k selection and conflict resolution (each anchor in at
    /// most one gt's column), with the alignment metric and clamped CIoU of every (gt, anchor) pair.
    /// </summary>
    internal (Tensor MaskPos, Tensor AlignMetric, Tensor Overlaps) PositiveMask(
        Tensor pdScores, Tensor pdBboxes, Tensor anchorPoints, Tensor gtLabels, Tensor gtBboxes, Tensor maskGt)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        long bs = pdScores.shape[0], na = pdScores.shape[1], nmax = gtBboxes.shape[1];
        var scores = pdScores.to(ScalarType.Float32);
        var pboxes = pdBboxes.to(ScalarType.Float32);
        var gboxes = gtBboxes.to(ScalarType.Float32);
        var anchors = anchorPoints.to(ScalarType.Float32);
        var labels = gtLabels.reshape(bs, nmax).to(ScalarType.Int64);                 // [B, M]
        var valid = maskGt.reshape(bs, nmax, 1).to(ScalarType.Bool);                   // [B, M, 1]
        using var lastClass = (NumClasses - 1L).ToScalar();
        using var alpha = Alpha.ToScalar();
        using var beta = Beta.ToScalar();
        using var noClaim = (-1.0).ToScalar();

        // Candidates: anchor centre strictly inside the gt box.
        var inGts = Candidates(anchors, gboxes) & valid;                      // [B, M, A]

        // Alignment metric t = s^α · CIoU^β on candidates (0 elsewhere), computed only for the candidate
        // pairs (a small fraction of B·M·A) to bound time and memory.
        var pairs = inGts.nonzero();                                                    // [P, 3]: b, m, a
        var (pb, pm, pa) = (pairs[.., 0], pairs[.., 1], pairs[.., 2]);
        var pairLabel = labels.index(new TensorIndex[] { TensorIndex.Tensor(pb), TensorIndex.Tensor(pm) }).clamp(Scalars.Zero, lastClass);
        var pairScore = scores.index(new TensorIndex[] { TensorIndex.Tensor(pb), TensorIndex.Tensor(pa), TensorIndex.Tensor(pairLabel) });
        var pairIou = PairOverlaps(gboxes.index(new TensorIndex[] { TensorIndex.Tensor(pb), TensorIndex.Tensor(pm) }),
                                   pboxes.index(new TensorIndex[] { TensorIndex.Tensor(pb), TensorIndex.Tensor(pa) }));
        var pairMetric = pairScore.pow(alpha) * pairIou.pow(beta);
        var overlaps = zeros(new long[] { bs, nmax, na }, device: scores.device).index_put_(pairIou, pb, pm, pa);        // [B, M, A]
        var alignMetric = zeros(new long[] { bs, nmax, na }, device: scores.device).index_put_(pairMetric, pb, pm, pa);
        var inGtsF = inGts.to(ScalarType.Float32);

        // Top-k anchors per gt by metric; only candidates of real gts may become positive.
        int k = (int)Math.Min(TopK, na);
        var topkIdx = alignMetric.topk(k, dim: -1, largest: true).indexes;             // [B, M, k]
        var maskTopk = zeros_like(alignMetric).scatter_(-1, topkIdx, ones_like(topkIdx, dtype: ScalarType.Float32));
        var maskPos = maskTopk * inGtsF;                                                // [B, M, A]

        // An anchor claimed by several gts keeps the claimant with the highest overlap.
        // Done sparsely on the (few) contested anchors: a reduction over the gt dimension of the dense
        // [B, M, A] tensor is several times slower than everything else here.
        var contested = (maskPos.sum(1) > Scalars.One).nonzero();                               // [Q, 2]: b, a
        var (qb, qa) = (TensorIndex.Tensor(contested[.., 0]), TensorIndex.Tensor(contested[.., 1]));
        var byAnchor = maskPos.permute(0, 2, 1);                                        // [B, A, M] view
        var claimants = byAnchor.index(new[] { qb, qa });                               // [Q, M]
        var claimOverlaps = overlaps.permute(0, 2, 1).index(new[] { qb, qa });
        var best = where(claimants > Scalars.Zero, claimOverlaps, full_like(claimOverlaps, noClaim)).argmax(-1);
        byAnchor.index_put_(nn.functional.one_hot(best, nmax).to(maskPos.dtype), new[] { qb, qa });

        return (maskPos.MoveToOuterDisposeScope(), alignMetric.MoveToOuterDisposeScope(), overlaps.MoveToOuterDisposeScope());
    }

    /// <summary>[B, M, A] true where anchor a's centre lies inside gt m's box by more than eps on every side.</summary>
    public static Tensor CandidatesInGts(Tensor anchorPoints, Tensor gtBboxes, double eps = 1e-9)
    {
        using var scope = NewDisposeScope();
        var x = anchorPoints[.., 0].view(1, 1, -1);                                     // [1, 1, A]
        var y = anchorPoints[.., 1].view(1, 1, -1);
        var g = gtBboxes.unsqueeze(-1);                                                 // [B, M, 4, 1]
        // Smallest of the four centre-to-side distances, without a [B, M, A, 4] temporary.
        var d = minimum(minimum(x - g[.., .., 0], y - g[.., .., 1]), minimum(g[.., .., 2] - x, g[.., .., 3] - y));
        using var margin = eps.ToScalar();
        return (d > margin).MoveToOuterDisposeScope();
    }

    static Assignment Keep(Assignment a)
    {
        a.TargetLabels.MoveToOuterDisposeScope();
        a.TargetBboxes.MoveToOuterDisposeScope();
        a.TargetScores.MoveToOuterDisposeScope();
        a.FgMask.MoveToOuterDisposeScope();
        a.TargetGtIdx.MoveToOuterDisposeScope();
        return a;
    }
}
