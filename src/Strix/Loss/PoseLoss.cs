using Strix.Models;
using Strix.Nn;
using Strix.Runtime;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Strix.Loss;

/// <summary>
/// The YOLOv8-pose loss: the detection loss plus two keypoint terms on the foreground anchors. Location: for each
/// keypoint labelled (v ≠ 0) of the object an anchor was assigned, 1 − exp(−d² / (2·(2σ)²·area)) — an OKS-shaped
/// error, d the distance in grid units, area the object's box area in grid units, σ COCO's per-keypoint sigmas for
/// 17 points (1/K each otherwise) — scaled by K / (labelled keypoints) and averaged. Visibility: BCE-with-logits of
/// the predicted visibility against "labelled". Gains pose 12 and kobj 1 (Ultralytics').
/// </summary>
public sealed class PoseLoss
{
    /// <summary>COCO's keypoint sigmas (person keypoints: nose, eyes, ears, shoulders, elbows, wrists, hips, knees, ankles).</summary>
    public static readonly float[] CocoSigmas =
        { .26f, .25f, .25f, .35f, .35f, .79f, .79f, .72f, .72f, .62f, .62f, 1.07f, 1.07f, .87f, .87f, .89f, .89f };

    /// <summary>The OKS sigmas for K keypoints: COCO's for 17, else 1/K each (Ultralytics' rule).</summary>
    public static float[] Sigmas(int k) => k == 17 ? CocoSigmas.Select(s => s / 10f).ToArray() : Enumerable.Repeat(1f / k, k).ToArray();

    public PoseLoss(DetectionLoss detection, int[] kptShape, double pose = 12.0, double kobj = 1.0)
    {
        Detection = detection;
        KptShape = kptShape;
        Pose = pose; Kobj = kobj;
    }

    /// <summary>The loss for a pose model's head.</summary>
    public PoseLoss(DetectionModel model, double box = 7.5, double cls = 0.5, double dfl = 1.5, double pose = 12.0, double kobj = 1.0)
        : this(new DetectionLoss(model.NumClasses, model.Strides, model.Head.RegMax, box, cls, dfl),
               model.KptShape ?? throw new ArgumentException($"{model.Name} is a {model.Task} model; the pose loss needs a -pose model"), pose, kobj) { }

    public DetectionLoss Detection { get; }
    /// <summary>[K, D].</summary>
    public int[] KptShape { get; }
    public double Pose { get; }
    public double Kobj { get; }

    /// <summary>Names of <c>Items</c>, in Ultralytics' order.</summary>
    public static IReadOnlyList<string> ItemNames { get; } = new[] { "box_loss", "pose_loss", "kobj_loss", "cls_loss", "dfl_loss" };

    /// <summary>Loss of one batch.</summary>
    /// <param name="outputs">The head's outputs: per level [B, 4·reg_max + nc + K·D, H, W].</param>
    /// <param name="batchIdx">[N] image index of each target.</param>
    /// <param name="cls">[N] class of each target.</param>
    /// <param name="bboxesXywhNorm">[N, 4] target boxes, xywh normalised to the input image.</param>
    /// <param name="keypoints">[N, K, 3] target keypoints, x y normalised to the input, v (0 unlabelled).</param>
    /// <param name="imgszOverride">[2] (h, w) input size in pixels; by default the first level's size × its stride.</param>
    /// <returns><c>Loss</c>: scalar (the five terms with gains, summed) × batch size; <c>Items</c>: detached [5] box, pose, kobj, cls, dfl.</returns>
    public (Tensor Loss, Tensor Items) Compute(Tensor[] outputs, Tensor batchIdx, Tensor cls, Tensor bboxesXywhNorm, Tensor keypoints, Tensor? imgszOverride = null)
    {
        int levels = Detection.Strides.Length, k = KptShape[0], d = KptShape[1], nk = k * d;
        if (outputs is null || outputs.Length != levels) throw new ArgumentException($"expected {levels} levels, got {outputs?.Length ?? 0} tensors", nameof(outputs));
        using var scope = NewDisposeScope();
        long bs = outputs[0].shape[0];
        var (det, kraw) = Detection.SplitLevels(outputs, nk, "keypoint values");
        var parts = Detection.ComputeParts(det, batchIdx, cls, bboxesXywhNorm, imgszOverride);
        var (anchors, strides) = Anchors.Make(det, Detection.Strides, 0.5);
        // Predicted keypoints in grid units [B, A, K, D]: x = 2·raw + anchor − ½ (no stride), visibility as a logit.
        var raw = kraw.permute(0, 2, 1).reshape(bs, -1, k, d);
        var cell = anchors.Minus(0.5).view(1, -1, 1, 2);
        var xy = raw.narrow(3, 0, 2).Times(2.0).Plus(cell);
        var pred = d == 3 ? cat(new[] { xy, raw.narrow(3, 2, 1) }, 3) : xy;
        var (kpt, kobj) = KeypointTerms(parts.Assignment, pred, keypoints, batchIdx, strides, parts.ImgszHw, bs);

        var dl = Detection;
        var items = stack(new[]
        {
            ((Held)parts.Box * dl.Box).T, ((Held)kpt * Pose).T, ((Held)kobj * Kobj).T, ((Held)parts.Cls * dl.Cls).T, ((Held)parts.Dfl * dl.Dfl).T,
        });
        var loss = ((Held)items.sum() * bs).T;
        return (loss.MoveToOuterDisposeScope(), items.detach().MoveToOuterDisposeScope());
    }

    /// <summary>The location and visibility terms before their gains; zero (with zero gradients) without foreground.</summary>
    (Tensor Kpt, Tensor Kobj) KeypointTerms(Assignment a, Tensor pred, Tensor keypoints, Tensor batchIdx, Tensor strides, Tensor imgszHw, long bs)
    {
        using var scope = NewDisposeScope();
        var fg = a.FgMask;
        int k = KptShape[0], d = KptShape[1];
        if (fg.sum().item<long>() == 0 || keypoints.shape[0] == 0)
        {
            var zero = ((Held)pred.sum() * 0).T;
            return (zero.MoveToOuterDisposeScope(), zero.clone().MoveToOuterDisposeScope());
        }
        // Targets per image, padded: [B, M, K, 3] in input pixels, then gathered per anchor and put in grid units.
        var kp = keypoints.to(pred.device).to(ScalarType.Float32);
        var scale = stack(new[] { imgszHw[1], imgszHw[0], imgszHw.new_ones(1).squeeze() }).view(1, 1, 3);
        kp = kp.mul(scale);
        var idx = batchIdx.reshape(-1).to(pred.device).to(ScalarType.Int64);
        var batched = TargetPadding.Pad(idx, kp, bs);                        // [B, M, K, 3]
        var gathered = batched.gather(1, a.TargetGtIdx.view(bs, -1, 1, 1).expand(-1, -1, k, 3));   // [B, A, K, 3]
        var gridScale = cat(new[] { strides.view(1, -1, 1, 1).expand(-1, -1, -1, 2), strides.new_ones(1, strides.shape[0], 1, 1) }, 3);
        var gt = gathered.div(gridScale);

        var fgIdx = fg.nonzero();                                            // [F, 2]
        var gtF = gt.index_select(0, fgIdx[.., 0]).gather(1, fgIdx[.., 1].view(-1, 1, 1, 1).expand(-1, 1, k, 3)).squeeze(1); // [F, K, 3]
        var predF = pred.index_select(0, fgIdx[.., 0]).gather(1, fgIdx[.., 1].view(-1, 1, 1, 1).expand(-1, 1, k, d)).squeeze(1);
        var boxes = a.TargetBboxes.div(strides.view(1, -1, 1));              // grid units
        var boxF = boxes.index_select(0, fgIdx[.., 0]).gather(1, fgIdx[.., 1].view(-1, 1, 1).expand(-1, 1, 4)).squeeze(1);
        var area = boxF.narrow(1, 2, 1).sub(boxF.narrow(1, 0, 1)).mul(boxF.narrow(1, 3, 1).sub(boxF.narrow(1, 1, 1))); // [F, 1]

        var mask = d == 3 ? gtF.narrow(2, 2, 1).squeeze(2).ne(Scalars.Zero) : ones(gtF.shape[0], k, ScalarType.Bool, device: pred.device);
        var maskF = mask.to(ScalarType.Float32);
        var dx = predF.narrow(2, 0, 1).squeeze(2).sub(gtF.narrow(2, 0, 1).squeeze(2));
        var dy = predF.narrow(2, 1, 1).squeeze(2).sub(gtF.narrow(2, 1, 1).squeeze(2));
        var dist = dx.mul(dx).Plus(dy.mul(dy));                               // [F, K]
        var sig = tensor(Sigmas(k), device: pred.device).Times(2.0);
        var denom = sig.mul(sig).view(1, k).mul(area.Plus(1e-9)).Times(2.0);
        var e = dist.div(denom);
        var factor = maskF.sum(1, keepdim: true).Plus(1e-9).reciprocal().Times((double)k);
        var kptLoss = factor.mul(e.neg().exp().SubtractedFrom(1.0).mul(maskF)).mean();
        var kobjLoss = d == 3
            ? F.binary_cross_entropy_with_logits(predF.narrow(2, 2, 1).squeeze(2), maskF)
            : ((Held)pred.sum() * 0).T;
        return (kptLoss.MoveToOuterDisposeScope(), kobjLoss.MoveToOuterDisposeScope());
    }
}
