using Strix.Eval;
using Strix.Models;
using Strix.Nn;
using Strix.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Strix.Loss;

/// <summary>
/// The YOLOv8-OBB loss: rotated task-aligned assignment (<see cref="RotatedTaskAlignedAssigner"/>), then on the foreground
/// anchors a ProbIoU box loss (1 − ProbIoU, weighted by the target scores) and the DFL of the distances to the target's
/// unrotated sides (its xywh read as an upright box, as Ultralytics does), and BCE class loss on all anchors; gains box,
/// cls, dfl as detection. Targets under 2 pixels wide or high are dropped first (they only destabilise the angle).
/// </summary>
public sealed class ObbLoss
{
    /// <summary>Smallest target side, in input pixels, that is trained on.</summary>
    public const double MinTargetSide = 2.0;

    public ObbLoss(DetectionLoss detection)
    {
        Detection = detection;
        Assigner = new RotatedTaskAlignedAssigner(detection.NumClasses, detection.Assigner.TopK, detection.Assigner.Alpha, detection.Assigner.Beta);
    }

    /// <summary>The loss for an OBB model's head.</summary>
    public ObbLoss(DetectionModel model, double box = 7.5, double cls = 0.5, double dfl = 1.5)
        : this(new DetectionLoss(model.NumClasses, model.Strides,
            (model.Head as OBB ?? throw new ArgumentException($"{model.Name} is a {model.Task} model; the OBB loss needs an -obb model")).RegMax, box, cls, dfl)) { }

    /// <summary>Class count, strides, reg_max, gains and the profiler hook.</summary>
    public DetectionLoss Detection { get; }
    public RotatedTaskAlignedAssigner Assigner { get; }

    /// <summary>Names of <c>Items</c>, in Ultralytics' order.</summary>
    public static IReadOnlyList<string> ItemNames { get; } = new[] { "box_loss", "cls_loss", "dfl_loss" };

    /// <summary>Loss of one batch.</summary>
    /// <param name="outputs">The head's outputs: per level [B, 4·reg_max + nc + 1, H, W] (the last channel the raw angle).</param>
    /// <param name="batchIdx">[N] image index of each target.</param>
    /// <param name="cls">[N] class of each target.</param>
    /// <param name="rboxes">[N, 5] rotated targets: cx cy w h normalised to the input's width and height, angle in radians.</param>
    /// <param name="imgszOverride">[2] (h, w) input size in pixels; by default the first level's size × its stride.</param>
    /// <returns><c>Loss</c>: scalar (box, cls, dfl with gains, summed) × batch size; <c>Items</c>: detached [3].</returns>
    public (Tensor Loss, Tensor Items) Compute(Tensor[] outputs, Tensor batchIdx, Tensor cls, Tensor rboxes, Tensor? imgszOverride = null)
    {
        var d = Detection;
        if (outputs is null || outputs.Length != d.Strides.Length) throw new ArgumentException($"expected {d.Strides.Length} levels, got {outputs?.Length ?? 0} tensors", nameof(outputs));
        if (rboxes.numel() != batchIdx.numel() * 5) throw new ArgumentException($"rotated targets [{string.Join(", ", rboxes.shape)}] for {batchIdx.numel()} objects (expected [N, 5])", nameof(rboxes));
        using var scope = NewDisposeScope();
        var (det, angleRaw) = d.SplitLevels(outputs, 1, "angle value");
        long bs = det[0].shape[0], no = 4 * d.RegMax + d.NumClasses;
        var device = det[0].device;
        var flat = cat(det.Select(p => p.to(ScalarType.Float32).view(bs, no, -1)).ToArray(), 2);
        var parts = flat.split(new long[] { 4 * d.RegMax, d.NumClasses }, 1);
        var predDist = parts[0].permute(0, 2, 1).contiguous();                          // [B, A, 4·reg_max]
        var predScores = parts[1].permute(0, 2, 1).contiguous();                        // [B, A, nc]
        var (anchors, strides) = Anchors.Make(det, d.Strides, 0.5);                     // grid units
        var imgsz = imgszOverride is null
            ? tensor(new float[] { det[0].shape[2] * d.Strides[0], det[0].shape[3] * d.Strides[0] }, device: device)
            : imgszOverride.to(ScalarType.Float32).to(device).reshape(2);

        var (gtLabels, gtBoxes) = BuildTargets(batchIdx, cls, rboxes, bs, imgsz, device, d.NumClasses);
        var maskGt = gtBoxes.sum(new long[] { 2 }, keepdim: true) > Scalars.Zero;

        // Predicted rotated boxes in grid units [B, A, 5]: the distances along the box's own axes, then its angle.
        var angle = OBB.Angle(angleRaw).permute(0, 2, 1);                              // [B, A, 1]
        var proj = HeldScalarMath.Arange(d.RegMax, ScalarType.Float32, device);
        var dist = predDist.view(bs, -1, 4, d.RegMax).softmax(3).matmul(proj);         // [B, A, 4]
        var xywh = OBB.DistToRotatedBox(dist.permute(0, 2, 1), angle.permute(0, 2, 1), anchors.transpose(0, 1).unsqueeze(0)).permute(0, 2, 1);
        var predBoxes = cat(new[] { xywh, angle }, 2);

        Assignment a;
        using (d.Profile?.Invoke("assigner"))
            a = Assigner.Assign(predScores.detach().sigmoid(), cat(new[] { xywh.detach().mul(strides), angle.detach() }, 2),
                anchors.mul(strides), gtLabels, gtBoxes, maskGt);
        var targetScoresSum = a.TargetScores.sum().clamp_min(Scalars.One);
        var lossCls = F.binary_cross_entropy_with_logits(predScores, a.TargetScores, reduction: nn.Reduction.None).sum() / targetScoresSum;

        var target = cat(new[] { a.TargetBboxes.narrow(2, 0, 4).div(strides), a.TargetBboxes.narrow(2, 4, 1) }, 2);  // grid units
        var fg = a.FgMask;
        var weight = a.TargetScores.sum(new long[] { -1 })[fg].unsqueeze(-1);          // [F, 1]
        var iou = RotatedBoxes.ProbIouPairs(predBoxes[fg], target[fg]).unsqueeze(-1);
        var lossBox = iou.SubtractedFrom(1.0).mul(weight).sum() / targetScoresSum;
        var upright = BoxOps.XywhToXyxy(target.narrow(2, 0, 4));
        var targetLtrb = Anchors.BoxToDist(anchors, upright, d.RegMax - 1);
        var lossDfl = d.BboxLoss.DistributionFocalLoss(predDist[fg], targetLtrb[fg]).unsqueeze(-1).mul(weight).sum() / targetScoresSum;
        a.Dispose();

        var items = stack(new[] { lossBox.Times(d.Box), lossCls.Times(d.Cls), lossDfl.Times(d.Dfl) });
        var loss = items.sum().Times(bs);
        return (loss.MoveToOuterDisposeScope(), items.detach().MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Flat rotated targets → per image padded labels [B, M, 1] and xywhr boxes [B, M, 5] in input pixels (padding rows
    /// all zero), targets with a side under <see cref="MinTargetSide"/> pixels left out.
    /// </summary>
    public static (Tensor Labels, Tensor Boxes) BuildTargets(Tensor batchIdx, Tensor cls, Tensor rboxes, long batchSize, Tensor imgszHw, Device device, int numClasses)
    {
        using var scope = NewDisposeScope();
        long n = batchIdx.numel();
        if (n == 0)
            return (zeros(batchSize, 0, 1, device: device).MoveToOuterDisposeScope(), zeros(batchSize, 0, 5, device: device).MoveToOuterDisposeScope());
        var (idx, clsFlat) = DetectionLoss.CheckTargets(batchIdx, cls, batchSize, device, numClasses);
        var r = rboxes.reshape(n, 5).to(device).to(ScalarType.Float32);
        var scale = stack(new[] { imgszHw[1], imgszHw[0], imgszHw[1], imgszHw[0] });
        var px = cat(new[] { r.narrow(1, 0, 4).mul(scale), r.narrow(1, 4, 1) }, 1);
        using var min = MinTargetSide.ToScalar();
        var keep = px.select(1, 2).ge(min).logical_and(px.select(1, 3).ge(min)).nonzero().squeeze(-1);
        idx = idx.index_select(0, keep);
        var labels = TargetPadding.Pad(idx, clsFlat.index_select(0, keep).reshape(-1, 1), batchSize);
        var boxes = TargetPadding.Pad(idx, px.index_select(0, keep), batchSize);
        return (labels.MoveToOuterDisposeScope(), boxes.MoveToOuterDisposeScope());
    }
}
