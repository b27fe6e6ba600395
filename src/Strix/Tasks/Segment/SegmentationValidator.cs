using Strix.Data;
using Strix.Eval;
using Strix.Models;
using Strix.Nn;
using Strix.Plotting;
using Strix.Tasks.Detect;
using static TorchSharp.torch;

namespace Strix.Tasks.Segment;

/// <summary>
/// Validates a segmentation model: the detection validator's boxes (the same NMS, now carrying each detection's mask
/// coefficients), and beside them the masks. Each kept detection's mask (coefficients · prototypes, cropped to its
/// box) and each object's target mask are taken to the original image — upsampled to the input, the letterbox
/// padding cut away, resized to the original size — and matched by mask IoU under the box rule, over the same ten
/// thresholds. predictions.json gets each detection's mask as COCO RLE; the plots gain the Mask curves and masks
/// on the val_batch images.
/// </summary>
public sealed class SegmentationValidator : DetectionValidator
{
    DetectionMetrics? _masks;
    CocoPredictionsWriter? _json;

    public SegmentationValidator(IReadOnlyList<string> names, ValidatorOptions? options = null) : base(names, options) { }

    /// <summary>The running mask statistics (after <see cref="Begin"/>).</summary>
    public DetectionMetrics MaskMetrics => _masks ?? throw new InvalidOperationException("call Begin() first");

    public override void Begin()
    {
        base.Begin();
        _masks = new DetectionMetrics(MetricNames, "M");
        _json = Options.SaveJson ? CocoPredictionsWriter.For(MetricNames) : null;
    }

    protected override string Task => "segment";
    protected override bool EvaluatorWritesJson => false;
    protected override CocoPredictionsWriter? JsonWriter => _json;
    protected override IReadOnlyList<DetectionMetrics> ExtraMetrics => new[] { MaskMetrics };
    protected override bool CarriesExtraRows => true;

    protected override void CheckModel(DetectionModel model)
    {
        if (model.Head is not Nn.Segment)
            throw new NotSupportedException($"{model.Name} is a {model.Task} model; segmentation validation needs a segmentation model (e.g. yolov8n-seg)");
    }

    protected override (Tensor Predictions, Tensor? Extra) Decode(DetectionModel model, Tensor[] raw) =>
        ((Nn.Segment)model.Head).DecodeMasks(raw);

    /// <summary>
    /// Feeds one batch of a segmentation model's decoded outputs — [B, 4+nc+nm, anchors] (pixel xywh, class scores, mask
    /// coefficients) and the prototypes [B, nm, h, w] — for callers that ran the model themselves (an ONNX session).
    /// </summary>
    public void Postprocess(Tensor predictions, Tensor prototypes, Batch batch, int batchIndex) =>
        PostprocessWith(predictions, prototypes, batch, batchIndex);

    protected override void OnImage(in ValidationImage image)
    {
        var protos = image.Extra ?? throw new ArgumentException("segmentation validation needs the prototypes");
        var batch = image.Batch;
        var dets = image.Original;
        int n = (int)image.Detections.shape[0], m = image.GtClasses.Length;
        var original = batch.OriginalShapes[image.Index];
        var ratioPad = batch.RatioPad[image.Index];
        int h = image.InputHeight, w = image.InputWidth;
        using var scope = NewDisposeScope();
        var proto = protos[image.Index];
        var coef = image.Detections.narrow(1, 6, image.Detections.shape[1] - 6);
        var boxes = image.Detections.narrow(1, 0, 4);

        // Masks are made only for detections that can match, unless all are written (save_json).
        var rows = _json is not null ? Enumerable.Range(0, n).ToArray()
            : MatchableRows(Runtime.TensorArrays.Floats(boxes), dets, image.GtClasses, image.GtBoxes, h, w, (double)h / proto.shape[1]);
        var rowIndex = tensor(rows.Select(r => (long)r).ToArray(), device: coef.device);
        var probs = MaskOps.CroppedProbabilities(proto, coef.index_select(0, rowIndex), boxes.index_select(0, rowIndex), h, w);
        var predMasks = MaskOps.ToOriginal(probs, h, w, ratioPad, original);
        var gtMasks = MaskOps.ToOriginal(batch.ObjectMasks(image.Index, image.GtRows), h, w, ratioPad, original);

        var iou = new float[n * m];
        if (rows.Length > 0 && m > 0)
        {
            var sub = Runtime.TensorArrays.Floats(MaskOps.Iou(predMasks, gtMasks));
            for (int r = 0; r < rows.Length; r++) Array.Copy(sub, r * m, iou, rows[r] * m, m);
        }
        MaskMetrics.UpdateIou(image.Original, iou, image.GtClasses);

        if (_json is not null)
        {
            var rles = new CocoRle[n];
            var bytes = Runtime.TensorArrays.Bytes(predMasks);
            int size = original.Height * original.Width;
            for (int r = 0; r < n; r++) rles[r] = CocoRle.Encode(bytes.AsSpan(r * size, size), original.Height, original.Width);
            _json.Add(batch.Files[image.Index], image.Original, rles);
        }

        if (image.PlotPredictions is { } plotPred && image.PlotLabels is { } plotLabels)
        {
            // The tiles show the model input: masks at its size, for the detections the grid draws.
            var drawn = Enumerable.Range(0, n).Where(k => dets[k * 6 + 4] > BatchGrid.DrawThreshold).ToArray();
            using var drawnIndex = tensor(drawn.Select(r => (long)r).ToArray(), device: coef.device);
            var planes = BatchGrid.Planes(MaskOps.Process(proto, coef.index_select(0, drawnIndex), boxes.index_select(0, drawnIndex), h, w));
            var masks = new byte[]?[n];
            for (int k = 0; k < drawn.Length; k++) masks[drawn[k]] = planes[k];
            plotPred[image.Index] = plotPred[image.Index] with { Masks = masks };
            plotLabels[image.Index] = plotLabels[image.Index] with { Masks = BatchGrid.LabelMasks(batch, image.Index, image.GtRows) };
        }
    }

    /// <summary>
    /// The detections whose mask can overlap a ground-truth mask of their class; every other one has mask IoU 0 with
    /// all objects it could match, so its mask need not be made. A predicted mask lies inside its box and a target mask
    /// inside its object's box, each grown by the spread of the two bilinear resizes (two prototype pixels plus two input
    /// pixels), so boxes that stay apart after growing have masks that never touch.
    /// </summary>
    /// <param name="inputBoxes">[n, 4] detections' xyxy in input pixels.</param>
    /// <param name="dets">[n, 6] detections (for the class, column 5).</param>
    /// <param name="gtClasses">[m] objects' classes.</param>
    /// <param name="gtBoxesXywhn">[m, 4] objects' centre xywh normalised to the input.</param>
    /// <param name="h">Input height in pixels.</param>
    /// <param name="w">Input width in pixels.</param>
    /// <param name="protoStride">Input pixels per prototype pixel.</param>
    internal static int[] MatchableRows(float[] inputBoxes, float[] dets, int[] gtClasses, float[] gtBoxesXywhn, int h, int w, double protoStride)
    {
        int n = inputBoxes.Length / 4, m = gtClasses.Length;
        double grow = 2 * protoStride + 2;
        var rows = new List<int>();
        for (int k = 0; k < n; k++)
        {
            int cls = (int)dets[k * 6 + 5];
            double x1 = inputBoxes[k * 4] - grow, y1 = inputBoxes[k * 4 + 1] - grow, x2 = inputBoxes[k * 4 + 2] + grow, y2 = inputBoxes[k * 4 + 3] + grow;
            for (int j = 0; j < m; j++)
            {
                if (gtClasses[j] != cls) continue;
                double cx = gtBoxesXywhn[j * 4] * w, cy = gtBoxesXywhn[j * 4 + 1] * h;
                double hw = gtBoxesXywhn[j * 4 + 2] * w / 2 + grow, hh = gtBoxesXywhn[j * 4 + 3] * h / 2 + grow;
                if (cx - hw < x2 && x1 < cx + hw && cy - hh < y2 && y1 < cy + hh) { rows.Add(k); break; }
            }
        }
        return rows.ToArray();
    }
}
