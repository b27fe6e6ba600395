using Strix.Eval;
using Strix.Inference;
using Strix.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Strix.Tasks.Obb;

/// <summary>
/// OBB's prediction post-processing on [B, 4 + nc + 1, A] (rotated centre and size, class scores, angle): each anchor's
/// best class above conf, rotated NMS by ProbIoU (<see cref="RotatedNms"/>: per class unless agnostic), max_det kept,
/// boxes in their regular form (w ≥ h, angle in [0, π)) mapped back through the letterbox. Each detection's box is the rotated box's axis-aligned bounds.
/// </summary>
public sealed class ObbPostprocessor(PredictOptions options) : IOutputsPostprocessor
{
    public PredictOptions Options { get; } = options;

    public IReadOnlyList<IReadOnlyList<Detection>> Postprocess(Tensor raw, IReadOnlyList<InputFrame> frames, IReadOnlyList<string> names) =>
        Postprocess(new[] { raw }, frames, names).Select(p => p.Detections).ToList();

    public IReadOnlyList<ImagePredictions> Postprocess(IReadOnlyList<Tensor> outputs, IReadOnlyList<InputFrame> frames, IReadOnlyList<string> names)
    {
        if (outputs.Count != 1) throw new ArgumentException($"an OBB model has one output [B, 4+nc+1, anchors]; got {outputs.Count}");
        var preds = outputs[0];
        int nc = names.Count;
        if (preds.shape[1] != 4 + nc + 1) throw new ArgumentException($"the output has {preds.shape[1]} rows; an OBB model of {nc} classes gives {4 + nc + 1}");
        if (preds.shape[0] != frames.Count) throw new ArgumentException($"{preds.shape[0]} images of predictions for {frames.Count} input frames");
        var result = new List<ImagePredictions>(frames.Count);
        for (int i = 0; i < frames.Count; i++)
        {
            using var scope = NewDisposeScope();
            var image = preds[i].to(ScalarType.Float32).cpu();
            result.Add(Image(image, frames[i], names));
        }
        return result;
    }

    /// <summary>One image's [4 + nc + 1, A] → its detections and rotated boxes.</summary>
    ImagePredictions Image(Tensor p, InputFrame f, IReadOnlyList<string> names)
    {
        using var scope = NewDisposeScope();
        var kept = RotatedNms.SingleImage(p, new NmsOptions
        {
            Conf = Options.PredictConf, Iou = Options.Iou, MaxDet = Options.MaxDet, Classes = Options.Classes, Agnostic = Options.Agnostic,
            NumClasses = names.Count,
        });
        int n = (int)kept.shape[0];
        var v = n == 0 ? Array.Empty<float>() : TensorArrays.Floats(kept);
        var dets = new List<Detection>(n);
        var obbs = new List<OrientedBox>(n);
        for (int j = 0; j < n; j++)
        {
            int o = j * RotatedNms.Width;
            var ob = new OrientedBox((float)((v[o] - f.PadW) / f.RatioW), (float)((v[o + 1] - f.PadH) / f.RatioH),
                (float)(v[o + 2] / f.RatioW), (float)(v[o + 3] / f.RatioH), v[o + 6]);
            int id = (int)v[o + 5];
            obbs.Add(ob);
            dets.Add(new Detection(ob.Bounds(), v[o + 4], id, id < names.Count ? names[id] : id.ToString()));
        }
        return new ImagePredictions(dets, OrientedBoxes: obbs);
    }
}
