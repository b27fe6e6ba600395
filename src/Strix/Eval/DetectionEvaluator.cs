using static TorchSharp.torch;

namespace Strix.Eval;

/// <summary>
/// Everything a validation pass does with one image after NMS: detections and ground truth are
/// mapped from the letterboxed model input back to original-image pixels (where Ultralytics and
/// COCO compare them), then fed to the metrics, the confusion matrix and the COCO json writer.
/// The task layer's detection validator runs the model and calls Add per image; it is usable on
/// its own for detections produced any other way.
/// </summary>
public sealed class DetectionEvaluator
{
    /// <param name="names">Class names (their count is nc).</param>
    /// <param name="confusionMatrix">Keep a confusion matrix (for the plots).</param>
    /// <param name="saveJson">Collect detections for predictions.json.</param>
    /// <param name="singleClass">Treat every prediction as class 0 (single_cls training).</param>
    public DetectionEvaluator(IReadOnlyList<string> names, bool confusionMatrix = true, bool saveJson = false, bool singleClass = false)
    {
        Names = names;
        Metrics = new DetectionMetrics(names);
        Confusion = confusionMatrix ? new ConfusionMatrix(names.Count) : null;
        Json = saveJson ? CocoPredictionsWriter.For(names) : null;
        SingleClass = singleClass;
    }

    public IReadOnlyList<string> Names { get; }
    public DetectionMetrics Metrics { get; }
    public ConfusionMatrix? Confusion { get; }
    public CocoPredictionsWriter? Json { get; }
    public bool SingleClass { get; }
    /// <summary>The image files added, in order.</summary>
    public IReadOnlyList<string> ImageFiles => _files;
    readonly List<string> _files = new();

    /// <summary>
    /// Adds one image. <paramref name="detections"/>: row-major [n,6] (x1, y1, x2, y2, conf, cls) in
    /// model-input pixels, as NMS returns them. Ground truth: <paramref name="gtClasses"/> [m] and
    /// <paramref name="gtBoxesXywhn"/> [m,4] centre xywh normalised to the input size
    /// (<paramref name="inputHeight"/>×<paramref name="inputWidth"/>), as the data loader collates them.
    /// <paramref name="ratioPad"/> is the letterbox mapping input = original·ratio + pad.
    /// Returns the detections in original pixels (row-major [n,6]).
    /// </summary>
    public float[] Add(ReadOnlySpan<float> detections, ReadOnlySpan<int> gtClasses, ReadOnlySpan<float> gtBoxesXywhn,
        int inputHeight, int inputWidth, (int Height, int Width) original,
        (double RatioW, double RatioH, double PadW, double PadH) ratioPad, string file)
    {
        const int W = DetectionMatcher.PredictionWidth;
        if (gtBoxesXywhn.Length != gtClasses.Length * 4) throw new ArgumentException($"{file}: {gtClasses.Length} classes but {gtBoxesXywhn.Length / 4.0} boxes");
        var (rw, rh, pw, ph) = ratioPad;

        var pred = detections.ToArray();
        if (SingleClass) for (int o = 5; o < pred.Length; o += W) pred[o] = 0;
        BoxOps.ScaleBoxes(pred, W, rw, rh, pw, ph, original.Height, original.Width);

        var gt = new float[gtBoxesXywhn.Length];
        for (int o = 0; o < gt.Length; o += 4)
        {
            float cx = gtBoxesXywhn[o] * inputWidth, cy = gtBoxesXywhn[o + 1] * inputHeight;
            float hw = gtBoxesXywhn[o + 2] * inputWidth / 2, hh = gtBoxesXywhn[o + 3] * inputHeight / 2;
            gt[o] = cx - hw; gt[o + 1] = cy - hh; gt[o + 2] = cx + hw; gt[o + 3] = cy + hh;
        }
        BoxOps.ScaleBoxes(gt, 4, rw, rh, pw, ph, original.Height, original.Width);

        Metrics.Update(pred, gt, gtClasses);
        _files.Add(file);
        Confusion?.Process(pred, gt, gtClasses);
        Json?.Add(file, pred);
        return pred;
    }

    /// <summary>
    /// Adds one image whose overlaps were measured elsewhere (oriented boxes: polygon IoU in original pixels):
    /// <paramref name="detectionsOriginal"/> row-major [n,6] in original pixels (their boxes are only drawn and written),
    /// <paramref name="iou"/> row-major [n, m], <paramref name="gtClasses"/> [m].
    /// </summary>
    public void AddIou(float[] detectionsOriginal, ReadOnlySpan<float> iou, ReadOnlySpan<int> gtClasses, string file)
    {
        const int W = DetectionMatcher.PredictionWidth;
        if (SingleClass) for (int o = 5; o < detectionsOriginal.Length; o += W) detectionsOriginal[o] = 0;
        Metrics.UpdateIou(detectionsOriginal, iou, gtClasses);
        _files.Add(file);
        Confusion?.ProcessIou(detectionsOriginal, iou, gtClasses);
        Json?.Add(file, detectionsOriginal);
    }

    /// <summary>Tensor form of <see cref="Add(ReadOnlySpan{float},ReadOnlySpan{int},ReadOnlySpan{float},int,int,ValueTuple{int,int},ValueTuple{double,double,double,double},string)"/> (any device).</summary>
    public float[] Add(Tensor detections, Tensor gtClasses, Tensor gtBoxesXywhn, int inputHeight, int inputWidth,
        (int Height, int Width) original, (double RatioW, double RatioH, double PadW, double PadH) ratioPad, string file) =>
        Add(DetectionMatcher.ToFloats(detections, DetectionMatcher.PredictionWidth, nameof(detections)),
            DetectionMatcher.ToClasses(gtClasses), DetectionMatcher.ToFloats(gtBoxesXywhn, 4, nameof(gtBoxesXywhn)),
            inputHeight, inputWidth, original, ratioPad, file);

    /// <summary>The metrics of everything added so far.</summary>
    public DetectionResults Compute() => Metrics.Compute();
}
