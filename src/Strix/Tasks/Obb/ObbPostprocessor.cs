using Strix.Eval;
using Strix.Inference;
using Strix.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Strix.Tasks.Obb;

/// <summary>
/// OBB's prediction post-processing on [B, 4 + nc + 1, A] (rotated centre and size, class scores, angle): each anchor's
/// best class above conf (at most 30,000 candidates, the highest), rotated NMS by ProbIoU (per class unless agnostic,
/// by moving each class's centres apart), max_det kept, boxes put in their regular form (w ≥ h, angle in [0, π)) and
/// mapped back through the letterbox. Each detection's box is the rotated box's axis-aligned bounds.
/// </summary>
public sealed class ObbPostprocessor(PredictOptions options) : IOutputsPostprocessor
{
    /// <summary>Ultralytics' cap on the boxes NMS sees, and the offset that keeps classes apart.</summary>
    const int MaxCandidates = 30_000;
    const double ClassOffset = 7680;

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
        int nc = names.Count;
        var x = p.transpose(0, 1); // [A, 4 + nc + 1]
        var scores = x.narrow(1, 4, nc);
        var (conf, cls) = scores.max(1);
        using var threshold = Options.PredictConf.ToScalar();
        var mask = conf.gt(threshold);
        if (Options.Classes is { Length: > 0 } wanted)
        {
            var allow = new bool[nc];
            foreach (int w in wanted) if (w >= 0 && w < nc) allow[w] = true;
            mask = mask.logical_and(tensor(allow).index_select(0, cls));
        }
        var idx = mask.nonzero().squeeze(-1);
        if (idx.shape[0] > MaxCandidates) idx = idx.index_select(0, conf.index_select(0, idx).argsort(descending: true).narrow(0, 0, MaxCandidates));
        var boxes = cat(new[] { x.narrow(1, 0, 4), x.narrow(1, 4 + nc, 1) }, 1).index_select(0, idx);
        var c = cls.index_select(0, idx);
        var s = conf.index_select(0, idx);
        var shifted = boxes.clone();
        if (!Options.Agnostic) shifted.narrow(1, 0, 2).add_(c.to(ScalarType.Float32).Times(ClassOffset).unsqueeze(1), Scalars.One);
        var keep = RotatedBoxes.Nms(shifted, s, Options.Iou).Take(Options.MaxDet).ToArray();
        if (keep.Length == 0) return new ImagePredictions(Array.Empty<Detection>(), OrientedBoxes: Array.Empty<OrientedBox>());
        var k = tensor(keep);
        var kept = RotatedBoxes.Regularize(boxes.index_select(0, k));
        var v = TensorArrays.Floats(kept);
        var sv = TensorArrays.Floats(s.index_select(0, k));
        var cv = c.index_select(0, k).data<long>().ToArray();
        var dets = new List<Detection>(keep.Length);
        var obbs = new List<OrientedBox>(keep.Length);
        for (int j = 0; j < keep.Length; j++)
        {
            int o = j * 5;
            var ob = new OrientedBox((float)((v[o] - f.PadW) / f.RatioW), (float)((v[o + 1] - f.PadH) / f.RatioH),
                (float)(v[o + 2] / f.RatioW), (float)(v[o + 3] / f.RatioH), v[o + 4]);
            int id = (int)cv[j];
            obbs.Add(ob);
            dets.Add(new Detection(ob.Bounds(), sv[j], id, id < names.Count ? names[id] : id.ToString()));
        }
        return new ImagePredictions(dets, OrientedBoxes: obbs);
    }
}
