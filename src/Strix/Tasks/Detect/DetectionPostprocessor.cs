using Strix.Eval;
using Strix.Inference;
using Strix.Runtime;
using static TorchSharp.torch;

namespace Strix.Tasks.Detect;

/// <summary>
/// Detection's prediction post-processing: NMS with <see cref="PredictOptions"/>' thresholds (conf, iou,
/// max_det, classes, agnostic), then boxes mapped from the letterboxed input back to the original image
/// and clipped to it.
/// </summary>
public sealed class DetectionPostprocessor(PredictOptions options) : IPostprocessor
{
    public PredictOptions Options { get; } = options;

    public IReadOnlyList<IReadOnlyList<Detection>> Postprocess(Tensor raw, IReadOnlyList<InputFrame> frames, IReadOnlyList<string> names)
    {
        if (IsNmsOutput(raw)) return FromGraphNms(raw, frames, names);
        var dets = Nms.NonMaxSuppression(raw, new NmsOptions
        {
            Conf = Options.PredictConf, Iou = Options.Iou, MaxDet = Options.MaxDet, Classes = Options.Classes, Agnostic = Options.Agnostic,
        });
        if (dets.Length != frames.Count)
        {
            foreach (var d in dets) d.Dispose();
            throw new ArgumentException($"{dets.Length} images of predictions for {frames.Count} input frames");
        }
        var result = new List<IReadOnlyList<Detection>>(dets.Length);
        for (int i = 0; i < dets.Length; i++)
            using (var d = dets[i]) result.Add(ToDetections(d, frames[i], names));
        return result;
    }

    /// <summary>
    /// True for the output of a graph that ran NMS itself ([B, max_det, 6]); the raw layout [B, 4+nc, anchors] always has
    /// more than 6 anchors (a 32-pixel input already has 21).
    /// </summary>
    internal static bool IsNmsOutput(Tensor raw) => raw.dim() == 3 && raw.shape[2] == 6;

    /// <summary>
    /// Rows NMS in the graph kept: those above this predictor's conf (the file's own conf is the floor) and in its
    /// classes, at most max_det, best first; their IoU threshold is the file's.
    /// </summary>
    IReadOnlyList<IReadOnlyList<Detection>> FromGraphNms(Tensor raw, IReadOnlyList<InputFrame> frames, IReadOnlyList<string> names)
    {
        if (raw.shape[0] != frames.Count) throw new ArgumentException($"{raw.shape[0]} images of predictions for {frames.Count} input frames");
        using var f32 = raw.to(ScalarType.Float32);
        var v = TensorArrays.Floats(f32);
        int n = (int)raw.shape[1];
        var classes = Options.Classes is { } c ? new HashSet<int>(c) : null;
        var result = new List<IReadOnlyList<Detection>>(frames.Count);
        for (int i = 0; i < frames.Count; i++)
        {
            var keep = new List<float>();
            for (int k = 0; k < n && keep.Count < Options.MaxDet * 6; k++)
            {
                int o = (i * n + k) * 6;
                if (!(v[o + 4] > Options.PredictConf) || classes is not null && !classes.Contains((int)v[o + 5])) continue;
                for (int j = 0; j < 6; j++) keep.Add(v[o + j]);
            }
            using var det = tensor(keep.ToArray(), new long[] { keep.Count / 6, 6 });
            result.Add(ToDetections(det, frames[i], names));
        }
        return result;
    }

    /// <summary>[n, 6(+extra)] model-input detections → original-image detections (undo letterbox, clip).</summary>
    internal static IReadOnlyList<Detection> ToDetections(Tensor det, InputFrame f, IReadOnlyList<string> names)
    {
        if (det.shape[0] == 0) return Array.Empty<Detection>();
        var v = TensorArrays.Floats(det);
        int w = (int)det.shape[1];
        var list = new List<Detection>((int)det.shape[0]);
        for (int k = 0; k < det.shape[0]; k++)
        {
            int o = w * k;
            float x1 = Math.Clamp((float)((v[o] - f.PadW) / f.RatioW), 0, f.Width);
            float y1 = Math.Clamp((float)((v[o + 1] - f.PadH) / f.RatioH), 0, f.Height);
            float x2 = Math.Clamp((float)((v[o + 2] - f.PadW) / f.RatioW), 0, f.Width);
            float y2 = Math.Clamp((float)((v[o + 3] - f.PadH) / f.RatioH), 0, f.Height);
            int cls = (int)v[o + 5];
            string name = cls >= 0 && cls < names.Count ? names[cls] : cls.ToString();
            list.Add(new Detection(new BoundingBox(x1, y1, x2, y2), v[o + 4], cls, name));
        }
        return list;
    }
}
