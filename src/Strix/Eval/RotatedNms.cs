using Strix.Runtime;
using static TorchSharp.torch;

namespace Strix.Eval;

/// <summary>
/// Non-maximum suppression for oriented-box outputs [B, 4 + nc + 1, A] (centre, size, class scores, angle): candidates
/// chosen as <see cref="Nms"/> chooses them (conf, multi-label, classes, the 30,000 cap), then
/// <see cref="RotatedBoxes.Nms"/> by ProbIoU within each class (across classes when agnostic), at most max_det kept.
/// </summary>
public static class RotatedNms
{
    /// <summary>Row layout of a kept detection: cx, cy, w, h, conf, cls, angle (Ultralytics' OBB NMS output).</summary>
    public const int Width = 7;

    /// <summary>Per image a [n, 7] tensor (cx, cy, w, h, conf, cls, angle) in the regular form (w ≥ h, angle in [0, π)), best first.</summary>
    public static Tensor[] NonMaxSuppression(Tensor prediction, NmsOptions options)
    {
        if (prediction.dim() != 3) throw new ArgumentException($"expected [B, 4+nc+1, anchors], got [{string.Join(", ", prediction.shape)}]");
        var result = new Tensor[prediction.shape[0]];
        for (long i = 0; i < result.Length; i++)
        {
            using var p = prediction[i];
            result[i] = SingleImage(p, options);
        }
        return result;
    }

    /// <summary>One image's [4 + nc + 1, A] → [n, 7].</summary>
    public static Tensor SingleImage(Tensor pred, NmsOptions o)
    {
        using var scope = NewDisposeScope();
        var x = pred.transpose(0, 1).to(ScalarType.Float32).cpu();          // [A, 4 + nc + 1]
        long nc = o.NumClasses ?? x.shape[1] - 5;
        if (nc < 1 || x.shape[1] != 4 + nc + 1) throw new ArgumentException($"rotated NMS: {x.shape[1]} rows per anchor are not 4 box rows, {nc} classes and an angle");
        var (anchor, conf, cls) = Nms.Candidates(x.narrow(1, 4, nc), o);
        if (conf.shape[0] == 0) return zeros(0, Width).to(pred.device).MoveToOuterDisposeScope();
        var boxes = cat(new[] { x.narrow(1, 0, 4), x.narrow(1, 4 + nc, 1) }, 1).index_select(0, anchor);
        var classes = TensorArrays.Floats(cls);
        var groups = o.Agnostic
            ? new[] { Enumerable.Range(0, classes.Length).ToArray() }
            : classes.Select((c, i) => (c, i)).GroupBy(t => t.c).Select(g => g.Select(t => t.i).ToArray()).ToArray();
        var kept = new List<long>();
        foreach (var g in groups)
        {
            var gi = tensor(g.Select(i => (long)i).ToArray());
            var k = RotatedBoxes.Nms(boxes.index_select(0, gi), conf.index_select(0, gi), o.Iou);
            kept.AddRange(k.Select(j => (long)g[j]));
        }
        // Candidates are sorted by score, so their indices order the survivors best first.
        var keep = tensor(kept.Order().Take(o.MaxDet).ToArray());
        var b = RotatedBoxes.Regularize(boxes.index_select(0, keep));
        var rows = cat(new[] { b.narrow(1, 0, 4), conf.index_select(0, keep).unsqueeze(1), cls.index_select(0, keep).unsqueeze(1), b.narrow(1, 4, 1) }, 1);
        return rows.to(pred.device).MoveToOuterDisposeScope();
    }
}
