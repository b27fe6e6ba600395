using Strix.Eval;
using Strix.Models;
using Strix.Nn;
using Strix.Runtime;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Strix.Loss;

/// <summary>
/// The YOLOv8-seg loss: the detection loss (<see cref="DetectionLoss"/>) plus a mask term. Each foreground anchor's mask,
/// its coefficients times the image's prototypes, is compared by BCE-with-logits with the target mask of the object the
/// assigner gave it, only inside that object's box, and normalised by the box area, so small and large objects weigh
/// alike; the sum over foreground anchors is divided by their count. The mask term takes the box gain (as Ultralytics).
/// </summary>
public sealed class SegmentationLoss
{
    public SegmentationLoss(DetectionLoss detection, int numMasks, bool overlap = true)
    {
        if (numMasks < 1) throw new ArgumentOutOfRangeException(nameof(numMasks));
        Detection = detection;
        NumMasks = numMasks;
        Overlap = overlap;
    }

    /// <summary>The loss for a segmentation model's head; <paramref name="overlap"/> as the data's <c>overlap_mask</c>.</summary>
    public SegmentationLoss(DetectionModel model, double box = 7.5, double cls = 0.5, double dfl = 1.5, bool overlap = true)
        : this(new DetectionLoss(model.NumClasses, model.Strides, model.Head.RegMax, box, cls, dfl), SegmentHead(model).NumMasks, overlap) { }

    static Segment SegmentHead(DetectionModel model) =>
        model.Head as Segment ?? throw new ArgumentException($"{model.Name} is a detection model; the segmentation loss needs a -seg model");

    public DetectionLoss Detection { get; }
    public int NumMasks { get; }
    /// <summary>True when the target masks are one index plane per image (<c>overlap_mask</c>), false for one plane per object.</summary>
    public bool Overlap { get; }

    /// <summary>Names of <c>Items</c>, in Ultralytics' order.</summary>
    public static IReadOnlyList<string> ItemNames { get; } = new[] { "box_loss", "seg_loss", "cls_loss", "dfl_loss" };

    /// <summary>Loss of one batch.</summary>
    /// <param name="outputs">The head's outputs: per level [B, 4·reg_max + nc + nm, H, W], then the prototypes [B, nm, h, w].</param>
    /// <param name="batchIdx">[N] image index of each target.</param>
    /// <param name="cls">[N] class of each target.</param>
    /// <param name="bboxesXywhNorm">[N, 4] target boxes, xywh normalised to the input image.</param>
    /// <param name="imgszOverride">[2] (h, w) input size in pixels; by default the first level's size × its stride.</param>
    /// <param name="masks">Target masks: with overlap [B, h', w'] object numbers (0 none, k + 1 the image's k-th target), else [N, h', w'] 0/1 in target order; resized (nearest) to the prototypes' size when they differ.</param>
    /// <returns><c>Loss</c>: scalar (the four terms with gains, summed) × batch size; <c>Items</c>: detached [4] box, seg, cls, dfl.</returns>
    public (Tensor Loss, Tensor Items) Compute(Tensor[] outputs, Tensor batchIdx, Tensor cls, Tensor bboxesXywhNorm, Tensor masks, Tensor? imgszOverride = null)
    {
        int levels = Detection.Strides.Length;
        if (outputs is null || outputs.Length != levels + 1)
            throw new ArgumentException($"expected {levels} levels and the prototypes, got {outputs?.Length ?? 0} tensors", nameof(outputs));
        using var scope = NewDisposeScope();
        long bs = outputs[0].shape[0];
        var (det, coef) = Detection.SplitLevels(outputs[..levels], NumMasks, "mask coefficients");
        var predMasks = coef.permute(0, 2, 1);                                         // [B, A, nm]
        var proto = outputs[levels].to(ScalarType.Float32);                           // [B, nm, h, w]

        var parts = Detection.ComputeParts(det, batchIdx, cls, bboxesXywhNorm, imgszOverride);
        var seg = MaskLoss(parts.Assignment, proto, predMasks, masks, batchIdx, parts.ImgszHw);

        var d = Detection;
        var items = stack(new[] { ((Held)parts.Box * d.Box).T, ((Held)seg * d.Box).T, ((Held)parts.Cls * d.Cls).T, ((Held)parts.Dfl * d.Dfl).T });
        var loss = ((Held)items.sum() * bs).T;
        return (loss.MoveToOuterDisposeScope(), items.detach().MoveToOuterDisposeScope());
    }

    /// <summary>The mask term before its gain; zero (with a zero gradient into the mask branches) without foreground.</summary>
    Tensor MaskLoss(Assignment a, Tensor proto, Tensor predMasks, Tensor masks, Tensor batchIdx, Tensor imgszHw)
    {
        using var scope = NewDisposeScope();
        var fg = a.FgMask;
        long nFg = fg.sum().item<long>();
        if (nFg == 0) return ((Held)proto.sum() * 0 + (Held)predMasks.sum() * 0).T.MoveToOuterDisposeScope();

        long bs = proto.shape[0], mh = proto.shape[2], mw = proto.shape[3];
        var target = masks.to(proto.device);
        if (target.shape[^2] != mh || target.shape[^1] != mw)
            target = F.interpolate(target.to(ScalarType.Float32).unsqueeze(0), new long[] { mh, mw }, mode: InterpolationMode.Nearest).squeeze(0);
        target = target.to(ScalarType.Float32);

        // Assigned boxes, normalised to the input, then in prototype pixels; their normalised areas.
        var scale = stack(new[] { imgszHw[1], imgszHw[0], imgszHw[1], imgszHw[0] });
        var boxesNorm = a.TargetBboxes / scale;                                        // [B, A, 4]
        var area = (boxesNorm[.., .., 2] - boxesNorm[.., .., 0]) * (boxesNorm[.., .., 3] - boxesNorm[.., .., 1]);
        using var protoScale = tensor(new float[] { mw, mh, mw, mh }, device: proto.device);
        var boxesProto = boxesNorm * protoScale;

        var owner = Overlap ? Array.Empty<long>() : batchIdx.reshape(-1).to(ScalarType.Int64).cpu().data<long>().ToArray();
        var sums = new List<Tensor>();
        for (long i = 0; i < bs; i++)
        {
            var fgRows = fg[i].nonzero().view(-1);                                      // [F] this image's foreground anchors
            if (fgRows.numel() == 0) continue;
            var gtIdx = a.TargetGtIdx[i].index_select(0, fgRows);                      // [F] index into the image's targets
            Tensor gt;
            if (Overlap)
                gt = target[i].unsqueeze(0).eq(((Held)gtIdx.to(ScalarType.Float32) + 1).T.view(-1, 1, 1)).to(ScalarType.Float32);
            else
            {
                var rows = Enumerable.Range(0, owner.Length).Where(k => owner[k] == i).Select(k => (long)k).ToArray();
                var own = target.index_select(0, tensor(rows, device: proto.device)); // this image's planes, in target order
                gt = own.index_select(0, gtIdx);
            }
            var coef = predMasks[i].index_select(0, fgRows);                           // [F, nm]
            var logits = coef.matmul(proto[i].view(NumMasks, -1)).view(-1, mh, mw);    // [F, h, w]
            var bce = F.binary_cross_entropy_with_logits(logits, gt, reduction: nn.Reduction.None);
            var box = boxesProto[i].index_select(0, fgRows);                           // [F, 4]
            var perObject = MaskOps.Crop(bce, box).mean(new long[] { 1, 2 }) / area[i].index_select(0, fgRows);
            sums.Add(perObject.sum());
        }
        return ((Held)stack(sums).sum() / (double)nFg).T.MoveToOuterDisposeScope();
    }
}
