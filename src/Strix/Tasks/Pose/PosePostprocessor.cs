using Strix.Eval;
using Strix.Inference;
using Strix.Runtime;
using Strix.Tasks.Detect;
using static TorchSharp.torch;

namespace Strix.Tasks.Pose;

/// <summary>
/// Pose's prediction post-processing: NMS as detection (thresholds from <see cref="PredictOptions"/>) on
/// [B, 4 + nc + K·D, A], carrying each detection's keypoints; then boxes and keypoints mapped from the letterboxed
/// input back to the original image (keypoints are not clipped: a point outside the picture keeps its place, as in
/// Ultralytics, and is not drawn).
/// </summary>
public sealed class PosePostprocessor(PredictOptions options, int[] kptShape) : IOutputsPostprocessor
{
    public PredictOptions Options { get; } = options;
    /// <summary>[K, D]: keypoints per object, values per keypoint (2 or 3).</summary>
    public int[] KptShape { get; } = kptShape.Length == 2 && kptShape[0] >= 1 && kptShape[1] is 2 or 3 ? kptShape
        : throw new ArgumentException($"kpt_shape [{string.Join(", ", kptShape)}] must be [K, 2] or [K, 3]");

    public IReadOnlyList<IReadOnlyList<Detection>> Postprocess(Tensor raw, IReadOnlyList<InputFrame> frames, IReadOnlyList<string> names) =>
        Postprocess(new[] { raw }, frames, names).Select(p => p.Detections).ToList();

    public IReadOnlyList<ImagePredictions> Postprocess(IReadOnlyList<Tensor> outputs, IReadOnlyList<InputFrame> frames, IReadOnlyList<string> names)
    {
        if (outputs.Count != 1) throw new ArgumentException($"a pose model has one output [B, 4+nc+K·D, anchors]; got {outputs.Count}");
        var preds = outputs[0];
        int k = KptShape[0], d = KptShape[1];
        if (preds.shape[1] != 4 + names.Count + k * d)
            throw new ArgumentException($"the output has {preds.shape[1]} rows; a pose model of {names.Count} classes and kpt_shape [{k}, {d}] gives {4 + names.Count + k * d}");
        var dets = Nms.NonMaxSuppression(preds, new NmsOptions
        {
            Conf = Options.PredictConf, Iou = Options.Iou, MaxDet = Options.MaxDet, Classes = Options.Classes, Agnostic = Options.Agnostic,
            NumClasses = names.Count,
        });
        try
        {
            if (dets.Length != frames.Count) throw new ArgumentException($"{dets.Length} images of predictions for {frames.Count} input frames");
            return dets.Select((det, i) => new ImagePredictions(DetectionPostprocessor.ToDetections(det, frames[i], names), Keypoints: Keypoints(det, frames[i], k, d))).ToList();
        }
        finally { foreach (var det in dets) det.Dispose(); }
    }

    /// <summary>Rows [n, 6 + K·D] → keypoints in original pixels: (v − pad) / ratio; the confidence is 1 when D = 2.</summary>
    internal static PoseKeypoints Keypoints(Tensor det, InputFrame f, int k, int d)
    {
        int n = (int)det.shape[0], w = (int)det.shape[1];
        var v = n == 0 ? Array.Empty<float>() : TensorArrays.Floats(det);
        var data = new float[n * k * 3];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < k; j++)
            {
                int src = i * w + 6 + j * d, dst = (i * k + j) * 3;
                data[dst] = (float)((v[src] - f.PadW) / f.RatioW);
                data[dst + 1] = (float)((v[src + 1] - f.PadH) / f.RatioH);
                data[dst + 2] = d == 3 ? v[src + 2] : 1f;
            }
        return new PoseKeypoints(n, k, data);
    }
}
