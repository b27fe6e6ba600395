using Strix.Data;
using Strix.Eval;
using Strix.Models;
using Strix.Plotting;
using Strix.Runtime;
using Strix.Tasks.Detect;
using static TorchSharp.torch;

namespace Strix.Tasks.Obb;

/// <summary>
/// Validates an oriented-box model: rotated NMS by ProbIoU (<see cref="RotatedNms"/>, conf 0.001, IoU 0.7, multi-label,
/// as Ultralytics), then predictions and labels taken to the original image (the letterbox undone on their corners) and
/// matched by their exact polygon IoU (<see cref="PolygonIou"/>) over the ten thresholds: mAP50 and mAP50-95 of rotated
/// boxes, reported in the <c>(B)</c> columns as Ultralytics does. The confusion matrix uses the same overlaps; the
/// plots draw the rotated boxes.
/// </summary>
/// <remarks>
/// Ultralytics matches OBB detections by ProbIoU, a smooth stand-in for overlap; the polygon IoU is the overlap itself
/// (what DOTA's evaluator uses), so a near-miss counts as it looks. On well-fitting boxes both agree closely.
/// </remarks>
public sealed class ObbValidator(IReadOnlyList<string> names, ValidatorOptions? options = null) : DetectionValidator(names, options)
{
    /// <summary>Columns of a kept row: x1 y1 x2 y2 (the rotated box's bounds), conf, cls, then cx cy w h angle.</summary>
    public const int RowWidth = 11;

    Batch? _rowsOf;
    float[] _rboxes = Array.Empty<float>();

    protected override string Task => "obb";
    protected override bool EvaluatorWritesJson => false;
    protected override CocoPredictionsWriter? JsonWriter => null;
    protected override bool CarriesExtraRows => true;

    protected override void CheckModel(DetectionModel model)
    {
        if (model.Head is not Nn.OBB)
            throw new NotSupportedException($"{model.Name} is a {model.Task} model; OBB validation needs an oriented-box model (e.g. yolov8n-obb)");
    }

    protected override (Tensor Predictions, Tensor? Extra) Decode(DetectionModel model, Tensor[] raw) => (((Nn.OBB)model.Head).DecodeObb(raw), null);

    protected override Tensor[] Suppress(Tensor decoded, NmsOptions options) =>
        RotatedNms.NonMaxSuppression(decoded, options).Select(WithBounds).ToArray();

    /// <summary>[n, 7] (cx cy w h conf cls angle) → [n, 11] (bounds, conf, cls, cx cy w h angle); disposes its input.</summary>
    static Tensor WithBounds(Tensor kept)
    {
        using (kept)
        {
            using var scope = NewDisposeScope();
            var rbox = cat(new[] { kept.narrow(1, 0, 4), kept.narrow(1, 6, 1) }, 1);
            var corners = RotatedBoxes.Corners(rbox);                                // [n, 4, 2]
            var lo = corners.amin(new long[] { 1 });
            var hi = corners.amax(new long[] { 1 });
            return cat(new[] { lo, hi, kept.narrow(1, 4, 2), rbox }, 1).MoveToOuterDisposeScope();
        }
    }

    protected override float[] Evaluate(float[] det, Tensor rows, int[] gtClasses, float[] gtBoxes, int[] gtRows, int h, int w, Batch batch, int image)
    {
        var (rw, rh, pw, ph) = batch.RatioPad[image];
        int n = det.Length / DetectionMatcher.PredictionWidth, m = gtClasses.Length;
        var r = n == 0 ? Array.Empty<float>() : TensorArrays.Floats(rows);
        var predCorners = new float[n * 8];
        var original = new float[n * DetectionMatcher.PredictionWidth];
        for (int i = 0; i < n; i++)
        {
            int o = i * RowWidth;
            var c = Polygons.RectCorners(r[o + 6], r[o + 7], r[o + 8], r[o + 9], r[o + 10]);
            ToOriginal(c, rw, rh, pw, ph);
            Array.Copy(c, 0, predCorners, i * 8, 8);
            float x1 = float.MaxValue, y1 = float.MaxValue, x2 = float.MinValue, y2 = float.MinValue;
            for (int k = 0; k < 8; k += 2) { x1 = Math.Min(x1, c[k]); x2 = Math.Max(x2, c[k]); y1 = Math.Min(y1, c[k + 1]); y2 = Math.Max(y2, c[k + 1]); }
            int q = i * DetectionMatcher.PredictionWidth;
            (original[q], original[q + 1], original[q + 2], original[q + 3], original[q + 4], original[q + 5]) = (x1, y1, x2, y2, det[q + 4], det[q + 5]);
        }
        var all = RotatedTargets(batch);
        var gtCorners = new float[m * 8];
        for (int j = 0; j < m; j++)
        {
            int o = gtRows[j] * 5;
            var c = Polygons.RectCorners(all[o] * w, all[o + 1] * h, all[o + 2] * w, all[o + 3] * h, all[o + 4]);
            ToOriginal(c, rw, rh, pw, ph);
            Array.Copy(c, 0, gtCorners, j * 8, 8);
        }
        Evaluator.AddIou(original, PolygonIou.Matrix(predCorners, gtCorners), gtClasses, batch.Files[image]);
        return original;
    }

    /// <summary>The batch's rotated targets as floats, read once per batch.</summary>
    float[] RotatedTargets(Batch batch)
    {
        if (ReferenceEquals(_rowsOf, batch)) return _rboxes;
        var t = batch.OrientedBoxes ?? throw new ArgumentException($"{batch.Files.FirstOrDefault()}: OBB validation needs the batch's rotated boxes (load the data with DataLoaderOptions.OrientedBoxes)");
        using var scope = NewDisposeScope();
        _rboxes = TensorArrays.Floats(t);
        _rowsOf = batch;
        return _rboxes;
    }

    static void ToOriginal(float[] corners, double rw, double rh, double pw, double ph)
    {
        for (int k = 0; k < corners.Length; k += 2)
        {
            corners[k] = (float)((corners[k] - pw) / rw);
            corners[k + 1] = (float)((corners[k + 1] - ph) / rh);
        }
    }

    protected override void OnImage(in ValidationImage image)
    {
        if (image.PlotPredictions is not { } plotPred || image.PlotLabels is not { } plotLabels) return;
        // The tiles show the model input: corners in its pixels.
        var detections = image.Detections;
        int n = (int)detections.shape[0];
        var r = n == 0 ? Array.Empty<float>() : TensorArrays.Floats(detections);
        var corners = Enumerable.Range(0, n).Select(i => Polygons.RectCorners(r[i * RowWidth + 6], r[i * RowWidth + 7], r[i * RowWidth + 8], r[i * RowWidth + 9], r[i * RowWidth + 10])).ToArray();
        plotPred[image.Index] = plotPred[image.Index] with { Corners = corners };
        var batch = image.Batch;
        plotLabels[image.Index] = BatchGrid.Labels(batch, image.Index, TensorArrays.Floats(batch.BatchIdx), TensorArrays.Floats(batch.Cls), TensorArrays.Floats(batch.Bboxes));
    }
}
