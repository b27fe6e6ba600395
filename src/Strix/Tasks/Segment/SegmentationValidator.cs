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

        // Masks are made only for detections that can match (a class present in the ground truth), unless all are written.
        bool all = _json is not null;
        var classes = new HashSet<int>(image.GtClasses);
        var rows = Enumerable.Range(0, n).Where(k => all || classes.Contains((int)dets[k * 6 + 5])).ToArray();
        var rowIndex = tensor(rows.Select(r => (long)r).ToArray(), device: coef.device);
        var probs = MaskOps.CroppedProbabilities(proto, coef.index_select(0, rowIndex), boxes.index_select(0, rowIndex), h, w);
        var predMasks = MaskOps.ToOriginal(probs, h, w, ratioPad, original);
        var gtMasks = MaskOps.ToOriginal(TargetMasks(batch, image.Index, image.GtRows), h, w, ratioPad, original);

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
            var planes = Planes(MaskOps.Process(proto, coef.index_select(0, drawnIndex), boxes.index_select(0, drawnIndex), h, w));
            var masks = new byte[]?[n];
            for (int k = 0; k < drawn.Length; k++) masks[drawn[k]] = planes[k];
            plotPred[image.Index] = plotPred[image.Index] with { Masks = masks };
            var labels = TargetMasks(batch, image.Index, image.GtRows);
            var up = nn.functional.interpolate(labels.unsqueeze(0), new long[] { h, w }, mode: InterpolationMode.Bilinear, align_corners: false).squeeze(0);
            plotLabels[image.Index] = plotLabels[image.Index] with { Masks = Planes(up.gt(Runtime.Scalars.Half)) };
        }
    }

    /// <summary>
    /// The target masks of one image's objects [m, h', w'] as 0/1 floats, in the order of its rows in the batch: from the
    /// overlap plane (object k is the pixels numbered k + 1) or the per-object planes. An image whose labels are boxes
    /// only has empty masks (its objects count as missed, as in Ultralytics).
    /// </summary>
    static Tensor TargetMasks(Batch batch, int image, int[] rows)
    {
        var masks = batch.Masks ?? throw new ArgumentException($"{batch.Files[image]}: the batch has no target masks (load the data with DataLoaderOptions.Segments)");
        using var scope = NewDisposeScope();
        if (masks.dtype == ScalarType.Int32)
        {
            var ids = tensor(Enumerable.Range(1, rows.Length).ToArray(), device: masks.device).view(-1, 1, 1);
            return masks[image].unsqueeze(0).eq(ids).to(ScalarType.Float32).MoveToOuterDisposeScope();
        }
        var index = tensor(rows.Select(r => (long)r).ToArray(), device: masks.device);
        return masks.index_select(0, index).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    static byte[]?[] Planes(Tensor masks)
    {
        using var scope = NewDisposeScope();
        var bytes = masks.to(ScalarType.Byte).cpu().contiguous();
        long n = bytes.shape[0], size = bytes.shape[1] * bytes.shape[2];
        if (n == 0) return Array.Empty<byte[]?>();
        var all = Runtime.TensorArrays.Bytes(bytes);
        var planes = new byte[]?[n];
        for (long k = 0; k < n; k++) planes[k] = all.AsSpan((int)(k * size), (int)size).ToArray();
        return planes;
    }
}
