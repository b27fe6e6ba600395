using Strix.Models;
using Strix.Nn;
using Strix.Runtime;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Strix.Loss;

/// <summary>
/// The YOLOv8 detection loss: task-aligned assignment, then CIoU + DFL box losses on foreground
/// anchors and BCE-with-logits class loss on all anchors, each normalised by the target-score sum
/// and scaled by its gain (Ultralytics' hyper-parameters <c>box</c>, <c>cls</c>, <c>dfl</c>).
/// All arithmetic is in float32 whatever the prediction dtype.
/// </summary>
public sealed class DetectionLoss
{
    public int NumClasses { get; }
    public int RegMax { get; }
    public float[] Strides { get; }
    /// <summary>Gain of the CIoU box loss (Ultralytics <c>box</c>).</summary>
    public double Box { get; }
    /// <summary>Gain of the class loss (Ultralytics <c>cls</c>).</summary>
    public double Cls { get; }
    /// <summary>Gain of the distribution focal loss (Ultralytics <c>dfl</c>).</summary>
    public double Dfl { get; }
    public TaskAlignedAssigner Assigner { get; }
    public BboxLoss BboxLoss { get; }

    public DetectionLoss(int numClasses, float[] strides, int regMax = Detect.DefaultRegMax,
                         double box = 7.5, double cls = 0.5, double dfl = 1.5,
                         int topk = 10, double alpha = 0.5, double beta = 6.0)
    {
        if (numClasses < 1) throw new ArgumentOutOfRangeException(nameof(numClasses), "need at least one class");
        if (strides is null || strides.Length == 0) throw new ArgumentException("need the stride of every level", nameof(strides));
        NumClasses = numClasses;
        Strides = strides.ToArray();
        RegMax = regMax;
        Box = box;
        Cls = cls;
        Dfl = dfl;
        Assigner = new TaskAlignedAssigner(numClasses, topk, alpha, beta);
        BboxLoss = new BboxLoss(regMax);
    }

    /// <summary>
    /// Optional timer for the loss's parts (<c>"assigner"</c>); a trainer's profiler plugs in here without
    /// the loss knowing the trainer. Returns the scope to dispose, or null.
    /// </summary>
    public Func<string, IDisposable?>? Profile { get; set; }

    /// <summary>The loss for a model's head: its class count, strides and reg_max.</summary>
    public DetectionLoss(DetectionModel model, double box = 7.5, double cls = 0.5, double dfl = 1.5)
        : this(model.NumClasses, model.Strides, DetectionHead(model).RegMax, box, cls, dfl) { }

    static Nn.Detect DetectionHead(DetectionModel model)
    {
        model.RequireDetectionHead("training");
        return model.Head;
    }

    /// <summary>
    /// Loss of one batch.
    /// </summary>
    /// <param name="preds">Per level [B, 4·reg_max + nc, H, W]: the output of <c>DetectionModel.forward</c>.</param>
    /// <param name="batchIdx">[N] image index of each target within the batch.</param>
    /// <param name="cls">[N] class of each target.</param>
    /// <param name="bboxesXywhNorm">[N, 4] target boxes, xywh normalised to the input image.</param>
    /// <param name="imgszOverride">[2] (h, w) input size in pixels; by default the first level's size × its stride.</param>
    /// <returns>
    /// <c>Loss</c>: scalar (box·gain + cls·gain + dfl·gain) × batch size, what <c>backward()</c> is called on
    /// (as Ultralytics). <c>Items</c>: detached [3] (box, cls, dfl) with gains applied, for logging.
    /// </returns>
    public (Tensor Loss, Tensor Items) Compute(Tensor[] preds, Tensor batchIdx, Tensor cls, Tensor bboxesXywhNorm, Tensor? imgszOverride = null)
    {
        using var scope = NewDisposeScope();
        var parts = ComputeParts(preds, batchIdx, cls, bboxesXywhNorm, imgszOverride);
        var items = stack(new[] { ((Held)parts.Box * Box).T, ((Held)parts.Cls * Cls).T, ((Held)parts.Dfl * Dfl).T });
        var loss = ((Held)items.sum() * preds[0].shape[0]).T;
        return (loss.MoveToOuterDisposeScope(), items.detach().MoveToOuterDisposeScope());
    }

    /// <summary>
    /// A head whose levels carry <paramref name="extra"/> values per anchor after the detection outputs (segmentation's mask
    /// coefficients, pose's keypoints): each level's detection part, and the extras of all levels as fp32 [B, extra, A].
    /// </summary>
    internal (Tensor[] Detection, Tensor Extra) SplitLevels(Tensor[] levels, int extra, string what)
    {
        long no = 4 * RegMax + NumClasses;
        long bs = levels[0].shape[0];
        var det = new Tensor[levels.Length];
        var rest = new Tensor[levels.Length];
        for (int i = 0; i < levels.Length; i++)
        {
            if (levels[i].dim() != 4 || levels[i].shape[1] != no + extra)
                throw new ArgumentException($"level {i} must be [B, {no + extra}, H, W] ({no} detection outputs + {extra} {what}), got [{string.Join(", ", levels[i].shape)}]", nameof(levels));
            var split = levels[i].split(new long[] { no, extra }, 1);
            det[i] = split[0];
            rest[i] = split[1].to(ScalarType.Float32).reshape(bs, extra, -1);
        }
        return (det, cat(rest, 2));
    }

    /// <summary>The three detection terms before their gains, with the assignment they came from (for the mask loss).</summary>
    /// <remarks>Every tensor is moved to the caller's dispose scope.</remarks>
    internal sealed record Parts(Tensor Box, Tensor Cls, Tensor Dfl, Assignment Assignment, Tensor ImgszHw);

    /// <summary>Assignment and the unscaled box, class and DFL losses; see <see cref="Compute"/> for the arguments.</summary>
    internal Parts ComputeParts(Tensor[] preds, Tensor batchIdx, Tensor cls, Tensor bboxesXywhNorm, Tensor? imgszOverride)
    {
        if (preds is null || preds.Length != Strides.Length)
            throw new ArgumentException($"expected {Strides.Length} prediction levels, got {preds?.Length ?? 0}", nameof(preds));
        long no = 4 * RegMax + NumClasses;
        foreach (var p in preds)
            if (p.dim() != 4 || p.shape[1] != no)
                throw new ArgumentException($"each level must be [B, {no}, H, W] (4·{RegMax} box logits + {NumClasses} classes), got [{string.Join(", ", p.shape)}]", nameof(preds));

        using var scope = NewDisposeScope();
        var device = preds[0].device;
        long bs = preds[0].shape[0];

        var flat = cat(preds.Select(p => p.to(ScalarType.Float32).view(bs, no, -1)).ToArray(), 2);  // [B, no, A]
        var parts = flat.split(new long[] { 4 * RegMax, NumClasses }, 1);
        var predDist = parts[0].permute(0, 2, 1).contiguous();                         // [B, A, 4·reg_max]
        var predScores = parts[1].permute(0, 2, 1).contiguous();                       // [B, A, nc]

        var (anchorPoints, strideTensor) = Anchors.Make(preds, Strides, 0.5);           // grid units, [A,2], [A,1]
        var imgsz = imgszOverride is null
            ? tensor(new float[] { preds[0].shape[2] * Strides[0], preds[0].shape[3] * Strides[0] }, device: device)
            : imgszOverride.to(ScalarType.Float32).to(device).reshape(2);

        // Targets padded per image: [B, M, 1] labels, [B, M, 4] xyxy pixels, [B, M, 1] validity.
        var (gtLabels, gtBboxes) = BuildTargets(batchIdx, cls, bboxesXywhNorm, bs, imgsz, device, NumClasses);
        var maskGt = gtBboxes.sum(new long[] { 2 }, keepdim: true) > Scalars.Zero;

        var predBboxes = DecodeBoxes(anchorPoints, predDist);                           // [B, A, 4] xyxy, grid units

        Assignment assignment;
        using (Profile?.Invoke("assigner"))
            assignment = Assigner.Assign(
                predScores.detach().sigmoid(),
                predBboxes.detach() * strideTensor,
                anchorPoints * strideTensor,
                gtLabels, gtBboxes, maskGt);

        var targetScores = assignment.TargetScores;
        var targetScoresSum = targetScores.sum().clamp_min(Scalars.One);

        var lossCls = F.binary_cross_entropy_with_logits(predScores, targetScores, reduction: nn.Reduction.None).sum() / targetScoresSum;

        // Foreground anchors only; an empty foreground gives exactly zero (and a zero gradient).
        var targetBboxes = assignment.TargetBboxes / strideTensor;
        var (lossBox, lossDfl) = BboxLoss.Compute(predDist, predBboxes, anchorPoints, targetBboxes,
                                                  targetScores, targetScoresSum, assignment.FgMask);
        foreach (var t in new[] { lossBox, lossCls, lossDfl, imgsz, assignment.TargetLabels, assignment.TargetBboxes,
                                  assignment.TargetScores, assignment.FgMask, assignment.TargetGtIdx })
            t.MoveToOuterDisposeScope();
        return new Parts(lossBox, lossCls, lossDfl, assignment, imgsz);
    }

    /// <summary>
    /// Box distributions → xyxy boxes around the anchors: softmax over each side's bins, expectation
    /// over bin indices 0..reg_max−1 (the DFL integral), then distances → corners.
    /// </summary>
    /// <param name="anchorPoints">[A, 2] grid units.</param>
    /// <param name="predDist">[B, A, 4·reg_max] logits.</param>
    /// <returns>[B, A, 4] xyxy in grid units.</returns>
    public Tensor DecodeBoxes(Tensor anchorPoints, Tensor predDist)
    {
        using var scope = NewDisposeScope();
        long b = predDist.shape[0], a = predDist.shape[1];
        var proj = HeldScalarMath.Arange(RegMax, predDist.dtype, predDist.device);
        var dist = predDist.view(b, a, 4, RegMax).softmax(3).matmul(proj);              // [B, A, 4]
        return Anchors.DistToBox(dist, anchorPoints, xywh: false).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Flat batch targets → per-image padded lists: labels [B, M, 1] and xyxy pixel boxes [B, M, 4],
    /// M = most targets in any image; padding rows are all zero (so their box sum is 0). Throws on a
    /// batch index outside the batch or a class outside 0..numClasses−1, naming the value.
    /// </summary>
    public static (Tensor Labels, Tensor Bboxes) BuildTargets(Tensor batchIdx, Tensor cls, Tensor bboxesXywhNorm,
                                                              long batchSize, Tensor imgszHw, Device device, int numClasses)
    {
        long n = batchIdx.numel();
        if (cls.numel() != n || bboxesXywhNorm.numel() != n * 4)
            throw new ArgumentException($"batch targets disagree: {n} batch indices, {cls.numel()} classes, boxes [{string.Join(", ", bboxesXywhNorm.shape)}] (expected [{n}, 4])");
        using var scope = NewDisposeScope();
        if (n == 0)
            return (zeros(batchSize, 0, 1, device: device).MoveToOuterDisposeScope(),
                    zeros(batchSize, 0, 4, device: device).MoveToOuterDisposeScope());

        var (idx, clsFlat) = CheckTargets(batchIdx, cls, batchSize, device, numClasses);

        var scale = stack(new[] { imgszHw[1], imgszHw[0], imgszHw[1], imgszHw[0] });    // w, h, w, h
        var xywh = bboxesXywhNorm.reshape(n, 4).to(device).to(ScalarType.Float32) * scale;
        Held xy = xywh[.., 0..2], half = (Held)xywh[.., 2..4] / 2;
        var xyxy = cat(new[] { (xy - half).T, (xy + half).T }, 1);

        var labels = TargetPadding.Pad(idx, clsFlat.reshape(n, 1), batchSize);
        var boxes = TargetPadding.Pad(idx, xyxy, batchSize);
        return (labels.MoveToOuterDisposeScope(), boxes.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The targets' image indices (int64) and classes (float32) on <paramref name="device"/>, checked: an index outside the
    /// batch or a class outside 0..numClasses−1 throws, naming the value. Non-empty input only; tensors in the caller's scope.
    /// </summary>
    internal static (Tensor Index, Tensor Classes) CheckTargets(Tensor batchIdx, Tensor cls, long batchSize, Device device, int numClasses)
    {
        using var scope = NewDisposeScope();
        var idx = batchIdx.reshape(-1).to(device).to(ScalarType.Int64);
        long lo = idx.min().item<long>(), hi = idx.max().item<long>();
        if (lo < 0 || hi >= batchSize)
            throw new ArgumentException($"target batch index {(lo < 0 ? lo : hi)} is outside the batch of {batchSize} images");
        var clsFlat = cls.reshape(-1).to(device).to(ScalarType.Float32);
        double cmin = clsFlat.min().item<float>(), cmax = clsFlat.max().item<float>();
        if (cmin < 0 || cmax >= numClasses)
            throw new ArgumentException($"target class {(cmin < 0 ? cmin : cmax)} is outside the model's {numClasses} classes (0..{numClasses - 1})");
        return (idx.MoveToOuterDisposeScope(), clsFlat.MoveToOuterDisposeScope());
    }
}
