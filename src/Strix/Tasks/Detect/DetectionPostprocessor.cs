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
