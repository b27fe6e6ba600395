using Strix.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Strix.Eval;

/// <summary>Options of <see cref="Nms.NonMaxSuppression"/>, with Ultralytics' names and defaults.</summary>
public sealed record NmsOptions
{
    /// <summary>Minimum class score of a candidate.</summary>
    public double Conf { get; init; } = 0.25;
    /// <summary>IoU above which a lower-scored box of the same class is suppressed.</summary>
    public double Iou { get; init; } = 0.7;
    /// <summary>Only keep these class ids (null: all).</summary>
    public int[]? Classes { get; init; }
    /// <summary>Suppress across classes (one box per place whatever its class).</summary>
    public bool Agnostic { get; init; }
    /// <summary>A box may be reported once per class whose score passes <see cref="Conf"/> (validation uses this).</summary>
    public bool MultiLabel { get; init; }
    /// <summary>Most detections kept per image.</summary>
    public int MaxDet { get; init; } = 300;
    /// <summary>Most candidates entering the greedy pass, highest scores first.</summary>
    public int MaxCandidates { get; init; } = 30000;
    /// <summary>
    /// How many rows after the four box rows are class scores; the rows after them (a segmentation model's mask
    /// coefficients) are carried into each kept detection's row after its class. Null: every row is a class.
    /// </summary>
    public int? NumClasses { get; init; }
}

/// <summary>
/// Non-maximum suppression for YOLO outputs. Candidate selection, class filtering, ranking and
/// gathering are tensor ops on the predictions' device; the greedy pass itself runs per class on the
/// (small) sorted candidate set, which keeps it exact — the same result as torchvision's NMS —
/// and fast: boxes of different classes never interact, so each class is its own short list.
/// </summary>
public static class Nms
{
    /// <summary>
    /// [B, 4+nc, A] (xywh, class scores) → per image a [n, 6] tensor (x1, y1, x2, y2, conf, cls),
    /// sorted by confidence, on the input's device. With <see cref="NmsOptions.NumClasses"/> the input is
    /// [B, 4+nc+extra, A] and each row of the result [n, 6+extra] ends with its anchor's extra values.
    /// </summary>
    public static Tensor[] NonMaxSuppression(Tensor prediction, NmsOptions options)
    {
        if (prediction.dim() != 3) throw new ArgumentException($"expected [B, 4+nc, anchors], got [{string.Join(", ", prediction.shape)}]");
        long b = prediction.shape[0];
        var result = new Tensor[b];
        for (long i = 0; i < b; i++)
        {
            using var p = prediction[i];
            result[i] = SingleImage(p, options);
        }
        return result;
    }

    /// <summary>NMS for one image's [4+nc, A] predictions.</summary>
    public static Tensor SingleImage(Tensor pred, NmsOptions o)
    {
        using var scope = NewDisposeScope();
        var device = pred.device;
        var x = pred.transpose(0, 1).to(ScalarType.Float32); // [A, 4+nc+extra]
        long nc = o.NumClasses ?? x.shape[1] - 4;
        long extra = x.shape[1] - 4 - nc;
        if (nc < 1 || extra < 0) throw new ArgumentException($"NMS: {x.shape[1]} rows per anchor cannot hold 4 box rows and {nc} classes");
        var boxes = BoxOps.XywhToXyxy(x[.., ..4]);
        var scores = x[.., 4..(int)(4 + nc)];
        var (candAnchor, candConf, candCls) = Candidates(scores, o);
        if (candConf.shape[0] == 0) return zeros(0, 6 + extra, device: device).MoveToOuterDisposeScope();
        var candBoxes = boxes.index_select(0, candAnchor);
        long n = candConf.shape[0];

        var keptIdx = GreedyByClass(candBoxes.cpu().data<float>().ToArray(), o.Agnostic ? null : candCls.cpu().data<float>().ToArray(), (int)n, (float)o.Iou, o.MaxDet);
        var keepT = tensor(keptIdx, dtype: ScalarType.Int64, device: device);
        var columns = new List<Tensor> { candBoxes.index_select(0, keepT), candConf.index_select(0, keepT).unsqueeze(1), candCls.index_select(0, keepT).unsqueeze(1) };
        if (extra > 0) columns.Add(x[.., (int)(4 + nc)..].index_select(0, candAnchor.index_select(0, keepT)));
        return cat(columns, 1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The candidates of one image's class scores [A, nc]: (anchor, class) pairs above conf (every passing class under
    /// multi-label, else each anchor's best), only the wanted classes, best first, at most <see cref="NmsOptions.MaxCandidates"/>.
    /// Returns anchor indices, scores and classes (float32); the returned tensors belong to the caller's dispose scope.
    /// </summary>
    internal static (Tensor Anchor, Tensor Conf, Tensor Cls) Candidates(Tensor scores, NmsOptions o)
    {
        using var scope = NewDisposeScope();
        var device = scores.device;
        long nc = scores.shape[1];
        using var confThreshold = o.Conf.ToScalar();
        Tensor candConf, candCls, candAnchor;
        if (o.MultiLabel && nc > 1)
        {
            var idx = (scores > confThreshold).nonzero();           // [k, 2] (anchor, class)
            candAnchor = idx[.., 0]; var c = idx[.., 1];
            candConf = scores[candAnchor, c];
            candCls = c.to(ScalarType.Float32);
        }
        else
        {
            var (conf, cls) = scores.max(1);
            candAnchor = (conf > confThreshold).nonzero().squeeze(1);
            candConf = conf.index_select(0, candAnchor);
            candCls = cls.index_select(0, candAnchor).to(ScalarType.Float32);
        }
        if (o.Classes is { Length: > 0 })
        {
            var wanted = tensor(o.Classes.Select(c => (float)c).ToArray(), device: device);
            var keep = (candCls.unsqueeze(1) == wanted.unsqueeze(0)).any(1).nonzero().squeeze(1);
            candAnchor = candAnchor.index_select(0, keep); candConf = candConf.index_select(0, keep); candCls = candCls.index_select(0, keep);
        }
        var order = candConf.argsort(descending: true);
        if (order.shape[0] > o.MaxCandidates) order = order[..o.MaxCandidates];
        return (candAnchor.index_select(0, order).MoveToOuterDisposeScope(), candConf.index_select(0, order).MoveToOuterDisposeScope(),
                candCls.index_select(0, order).MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Exact greedy NMS over score-sorted boxes (xyxy, flattened), independently per class
    /// (<paramref name="classes"/> null = agnostic). Returns kept indices in score order, at most maxDet.
    /// </summary>
    internal static long[] GreedyByClass(float[] xyxy, float[]? classes, int n, float iouThreshold, int maxDet)
    {
        var suppressed = new bool[n];
        var area = new float[n];
        for (int i = 0; i < n; i++)
            area[i] = Math.Max(0, xyxy[4 * i + 2] - xyxy[4 * i]) * Math.Max(0, xyxy[4 * i + 3] - xyxy[4 * i + 1]);
        // Group indices by class, keeping score order inside each group.
        var groups = new Dictionary<float, List<int>>();
        for (int i = 0; i < n; i++)
        {
            float c = classes?[i] ?? 0f;
            if (!groups.TryGetValue(c, out var g)) groups[c] = g = new List<int>();
            g.Add(i);
        }
        var kept = new List<int>();
        foreach (var g in groups.Values)
        {
            for (int a = 0; a < g.Count; a++)
            {
                int i = g[a];
                if (suppressed[i]) continue;
                kept.Add(i);
                float x1 = xyxy[4 * i], y1 = xyxy[4 * i + 1], x2 = xyxy[4 * i + 2], y2 = xyxy[4 * i + 3], ai = area[i];
                for (int bIdx = a + 1; bIdx < g.Count; bIdx++)
                {
                    int j = g[bIdx];
                    if (suppressed[j]) continue;
                    float w = Math.Min(x2, xyxy[4 * j + 2]) - Math.Max(x1, xyxy[4 * j]);
                    if (w <= 0) continue;
                    float h = Math.Min(y2, xyxy[4 * j + 3]) - Math.Max(y1, xyxy[4 * j + 1]);
                    if (h <= 0) continue;
                    float inter = w * h;
                    if (inter / (ai + area[j] - inter + 1e-9f) > iouThreshold) suppressed[j] = true;
                }
            }
        }
        kept.Sort(); // indices are in score order
        return kept.Take(maxDet).Select(i => (long)i).ToArray();
    }
}
