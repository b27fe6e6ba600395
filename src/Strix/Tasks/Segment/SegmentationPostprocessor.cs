using Strix.Eval;
using Strix.Inference;
using Strix.Tasks.Detect;
using static TorchSharp.torch;

namespace Strix.Tasks.Segment;

/// <summary>
/// Segmentation's prediction post-processing: NMS as detection (its thresholds from <see cref="PredictOptions"/>),
/// carrying each detection's mask coefficients; then each kept detection's mask — coefficients · prototypes, cropped
/// to its box, upsampled, the letterbox undone — as a bitmap at the original image's size.
/// </summary>
public sealed class SegmentationPostprocessor(PredictOptions options) : IOutputsPostprocessor
{
    public PredictOptions Options { get; } = options;

    /// <summary>Boxes only, from the first output [B, 4+nc+nm, A] (the detections without their masks).</summary>
    public IReadOnlyList<IReadOnlyList<Detection>> Postprocess(Tensor raw, IReadOnlyList<InputFrame> frames, IReadOnlyList<string> names)
    {
        var dets = Suppress(raw, names.Count);
        try
        {
            if (dets.Length != frames.Count) throw new ArgumentException($"{dets.Length} images of predictions for {frames.Count} input frames");
            return dets.Select((d, i) => DetectionPostprocessor.ToDetections(d, frames[i], names)).ToList();
        }
        finally { foreach (var d in dets) d.Dispose(); }
    }

    Tensor[] Suppress(Tensor preds, int nc) => Nms.NonMaxSuppression(preds, new NmsOptions
    {
        Conf = Options.PredictConf, Iou = Options.Iou, MaxDet = Options.MaxDet, Classes = Options.Classes, Agnostic = Options.Agnostic,
        NumClasses = nc,
    });

    public IReadOnlyList<ImagePredictions> Postprocess(IReadOnlyList<Tensor> outputs, IReadOnlyList<InputFrame> frames, IReadOnlyList<string> names)
    {
        if (outputs.Count != 2) throw new ArgumentException($"a segmentation model has two outputs (predictions, prototypes); got {outputs.Count}");
        var (preds, protos) = (outputs[0], outputs[1]);
        int h = (int)protos.shape[2] * 4, w = (int)protos.shape[3] * 4; // the prototypes are at stride 4 of the input
        var dets = Suppress(preds, names.Count);
        try
        {
            if (dets.Length != frames.Count) throw new ArgumentException($"{dets.Length} images of predictions for {frames.Count} input frames");
            var result = new List<ImagePredictions>(dets.Length);
            for (int i = 0; i < dets.Length; i++)
            {
                var f = frames[i];
                using var proto = protos[i];
                result.Add(new ImagePredictions(DetectionPostprocessor.ToDetections(dets[i], f, names), Masks(dets[i], proto, f, h, w)));
            }
            return result;
        }
        finally { foreach (var d in dets) d.Dispose(); }
    }

    static SegmentMasks Masks(Tensor det, Tensor proto, InputFrame f, int h, int w)
    {
        using var scope = NewDisposeScope();
        long n = det.shape[0];
        if (n == 0) return new SegmentMasks(0, f.Height, f.Width, Array.Empty<byte>());
        var probs = MaskOps.CroppedProbabilities(proto, det.narrow(1, 6, det.shape[1] - 6), det.narrow(1, 0, 4), h, w);
        var masks = MaskOps.ToOriginal(probs, h, w, (f.RatioW, f.RatioH, f.PadW, f.PadH), (f.Height, f.Width));
        var bytes = Runtime.TensorArrays.Bytes(masks);
        return new SegmentMasks((int)n, f.Height, f.Width, bytes);
    }
}
