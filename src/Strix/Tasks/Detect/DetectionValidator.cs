using System.Diagnostics;
using System.Globalization;
using Strix.Data;
using Strix.Eval;
using Strix.Plotting;
using Strix.Inference;
using Strix.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Strix.Tasks.Detect;

/// <summary>
/// Runs a detector over a validation loader and measures it: batched inference (rect batches from
/// the loader), NMS (conf 0.001, IoU 0.7, 300 detections, multi-label), detections and labels mapped
/// back to original pixels and matched at IoU 0.50:0.95, mAP / P / R / per-class AP, speed per image,
/// optional validation losses, and the plots and predictions.json. Use <see cref="Run(DetectionModel, IEnumerable{Batch}, Func{Tensor[], Batch, Tensor}?)"/>
/// for a whole pass, or <see cref="Begin"/> / <see cref="Step(DetectionModel, Batch, int, Func{Tensor[], Batch, Tensor}?)"/> /
/// <see cref="End"/> from a training loop's validation hooks (the model in memory, EMA weights and all).
/// Other tasks extend it (segmentation adds masks to the same detections) through the protected hooks.
/// </summary>
public class DetectionValidator
{
    DetectionEvaluator? _eval;
    double _preMs, _inferMs, _lossMs, _postMs;
    int _images, _batches;
    double[]? _lossSums;
    readonly List<string> _files = new();
    readonly List<int> _batchSizes = new();

    /// <param name="names">The model's class names (their count is the model's nc).</param>
    /// <param name="options">Thresholds, outputs and logging; default: <c>strix val</c>'s.</param>
    public DetectionValidator(IReadOnlyList<string> names, ValidatorOptions? options = null)
    {
        if (names.Count == 0) throw new ArgumentException("need class names", nameof(names));
        Names = names;
        Options = options ?? new ValidatorOptions();
        Options.Validate();
        MetricNames = Options.SingleCls ? new[] { names.Count == 1 ? names[0] : "item" } : names;
    }

    /// <summary>The model's classes.</summary>
    public IReadOnlyList<string> Names { get; }
    /// <summary>The classes metrics are reported for: <see cref="Names"/>, or one class under <c>single_cls</c>.</summary>
    public IReadOnlyList<string> MetricNames { get; }
    public ValidatorOptions Options { get; }
    /// <summary>The running evaluator (after <see cref="Begin"/>).</summary>
    public DetectionEvaluator Evaluator => _eval ?? throw new InvalidOperationException("call Begin() first");

    /// <summary>Plots and json go to <see cref="ValidatorOptions.SaveDir"/>.</summary>
    protected bool WriteFiles => Options.SaveDir is not null;

    /// <summary>The evaluator writes predictions.json's box entries itself (a task adding to each entry writes its own).</summary>
    protected virtual bool EvaluatorWritesJson => Options.SaveJson;

    /// <summary>Starts a pass: clears metrics, timers and losses.</summary>
    public virtual void Begin()
    {
        _eval = new DetectionEvaluator(MetricNames, confusionMatrix: Options.Plots, saveJson: Options.SaveJson && EvaluatorWritesJson, singleClass: Options.SingleCls);
        _preMs = _inferMs = _lossMs = _postMs = 0;
        _images = _batches = 0;
        _lossSums = null;
        _files.Clear();
        _batchSizes.Clear();
        if (WriteFiles) Directory.CreateDirectory(Options.SaveDir!);
    }

    /// <summary>
    /// Validates one batch on a model in memory (eval mode is the caller's choice; runs under no_grad).
    /// <paramref name="loss"/>, when given, receives the raw head outputs and the batch and returns the
    /// loss items (e.g. box, cls, dfl) whose batch means become <c>val/…</c> losses; the raw maps are on
    /// the model's device, the batch's target tensors where the loader (or trainer) put them. For
    /// example <c>(raw, b) =&gt; { var (l, items) = loss.Compute(raw, b.BatchIdx.to(dev), b.Cls.to(dev), b.Bboxes.to(dev)); l.Dispose(); return items; }</c>.
    /// </summary>
    public void Step(DetectionModel model, Batch batch, int batchIndex, Func<Tensor[], Batch, Tensor>? loss = null)
    {
        CheckModel(model);
        if (model.NumClasses != Names.Count)
            throw new ArgumentException($"model has {model.NumClasses} classes, the validator {Names.Count}");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var device = model.parameters().First().device;
        var sw = Stopwatch.StartNew();
        var input = batch.ModelInput(device);
        Sync(device); _preMs += sw.Elapsed.TotalMilliseconds; sw.Restart();
        var raw = model.call(input);
        var (decoded, extra) = Decode(model, raw);
        Sync(device); _inferMs += sw.Elapsed.TotalMilliseconds; sw.Restart();
        if (loss is not null)
        {
            using var items = loss(raw, batch);
            var v = items.detach().to(ScalarType.Float64).cpu().data<double>().ToArray();
            _lossSums ??= new double[v.Length];
            if (v.Length != _lossSums.Length) throw new InvalidOperationException($"loss returned {v.Length} values, earlier batches {_lossSums.Length}");
            for (int i = 0; i < v.Length; i++) _lossSums[i] += v[i];
            _lossMs += sw.Elapsed.TotalMilliseconds; sw.Restart();
        }
        PostprocessWith(decoded, extra, batch, batchIndex);
    }

    /// <summary>
    /// One image after NMS, for a task that measures more than boxes: <see cref="ValidationImage.Detections"/> are the
    /// kept rows with their extra values, in input pixels.
    /// </summary>
    protected virtual void OnImage(in ValidationImage image) { }

    /// <summary>Statistics kept beside the box metrics (segmentation: the mask matches), merged across ranks with them.</summary>
    protected virtual IReadOnlyList<DetectionMetrics> ExtraMetrics => Array.Empty<DetectionMetrics>();

    /// <summary>Where predictions.json's entries are collected (the evaluator's box writer unless the task keeps its own).</summary>
    protected virtual CocoPredictionsWriter? JsonWriter => Evaluator.Json;

    /// <summary>Refuses a model this validator cannot measure (the detection validator: a model with another task's head).</summary>
    protected virtual void CheckModel(DetectionModel model) => model.RequireDetectionHead("validation");

    /// <summary>
    /// The head's raw outputs → the predictions NMS reads, [B, 4+nc(+extra), A] in input pixels, and any further
    /// per-image output the task's <see cref="OnImage"/> needs (segmentation's prototypes).
    /// </summary>
    protected virtual (Tensor Predictions, Tensor? Extra) Decode(DetectionModel model, Tensor[] raw) => (model.Head.Decode(raw), null);

    /// <summary>
    /// NMS of one batch's predictions → per image its kept rows [n, 6 + extra], the first six x1 y1 x2 y2 conf cls in
    /// input pixels (oriented boxes: their axis-aligned bounds, the rotated box after them).
    /// </summary>
    protected virtual Tensor[] Suppress(Tensor decoded, NmsOptions options) => Nms.NonMaxSuppression(decoded, options);

    /// <summary>
    /// Matches one image's detections (<paramref name="det"/> row-major [n,6] input pixels; <paramref name="rows"/> the whole
    /// rows) with its labels (classes, normalised xywh, their rows in the batch) and feeds the evaluator; returns the
    /// detections in original pixels. Detection compares boxes; oriented boxes compare their rotated rectangles.
    /// </summary>
    protected virtual float[] Evaluate(float[] det, Tensor rows, int[] gtClasses, float[] gtBoxes, int[] gtRows, int h, int w, Batch batch, int image) =>
        Evaluator.Add(det, gtClasses, gtBoxes, h, w, batch.OriginalShapes[image], batch.RatioPad[image], batch.Files[image]);

    /// <summary>Rows per anchor after the class scores that the task carries through NMS (mask coefficients); 0 for detection.</summary>
    protected virtual bool CarriesExtraRows => false;

    /// <summary>Validates one batch through any backend (TorchSharp model, ONNX Runtime session).</summary>
    public void Step(IDetectionBackend backend, Batch batch, int batchIndex)
    {
        using var scope = NewDisposeScope();
        var sw = Stopwatch.StartNew();
        var input = batch.FloatImages(backend.Device);
        Sync(backend.Device); _preMs += sw.Elapsed.TotalMilliseconds; sw.Restart();
        if (backend.Task != Task)
            throw new NotSupportedException($"the model is a {backend.Task} model; {Task} validation needs a {Task} model");
        var outputs = backend.ForwardOutputs(input);
        Sync(backend.Device); _inferMs += sw.Elapsed.TotalMilliseconds; sw.Restart();
        PostprocessWith(outputs[0], outputs.Length > 1 ? outputs[1] : null, batch, batchIndex);
    }

    /// <summary>The task this validator measures (a backend of another task is refused by name).</summary>
    protected virtual string Task => "detect";

    /// <summary>
    /// Feeds one batch of decoded predictions [B, 4+nc, anchors] (pixel xywh, class scores, model
    /// input coordinates) — for callers that ran the model themselves.
    /// </summary>
    public void Postprocess(Tensor decoded, Batch batch, int batchIndex) => PostprocessWith(decoded, null, batch, batchIndex);

    /// <summary>One batch of decoded predictions and the task's extra output (see <see cref="Decode"/>).</summary>
    protected void PostprocessWith(Tensor decoded, Tensor? extra, Batch batch, int batchIndex)
    {
        if (decoded.dim() != 3 || decoded.shape[0] != batch.Count || decoded.shape[1] < 4 + Names.Count
            || (!CarriesExtraRows && decoded.shape[1] != 4 + Names.Count))
            throw new ArgumentException($"predictions [{string.Join(",", decoded.shape)}] do not fit a batch of {batch.Count} with {Names.Count} classes");
        int h = (int)batch.Images.shape[2], w = (int)batch.Images.shape[3];
        // Timed as "postprocess" like Ultralytics: NMS only; matching and plotting are bookkeeping.
        var sw = Stopwatch.StartNew();
        var dets = Suppress(decoded, new NmsOptions
        {
            Conf = Options.Conf, Iou = Options.Iou, MaxDet = Options.MaxDet, MultiLabel = true, Agnostic = Options.SingleCls,
            NumClasses = Names.Count,
        });
        _postMs += sw.Elapsed.TotalMilliseconds;
        var idx = DetectionMatcher.ToClasses(batch.BatchIdx);
        var cls = DetectionMatcher.ToClasses(batch.Cls);
        if (Options.SingleCls) Array.Clear(cls); // single_cls: every label is class 0, as the predictions are
        var boxes = DetectionMatcher.ToFloats(batch.Bboxes, 4, "batch.Bboxes");
        bool plot = WriteFiles && Options.Plots && batchIndex < Options.PlotBatches;
        var predBoxes = plot ? new ImageBoxes[batch.Count] : null;
        var labelBoxes = plot ? new ImageBoxes[batch.Count] : null;
        try
        {
            for (int i = 0; i < batch.Count; i++)
            {
                var sel = Enumerable.Range(0, idx.Length).Where(k => idx[k] == i).ToArray();
                var gtCls = sel.Select(k => cls[k]).ToArray();
                var gtBoxes = new float[sel.Length * 4];
                for (int j = 0; j < sel.Length; j++) Array.Copy(boxes, sel[j] * 4, gtBoxes, j * 4, 4);
                using var det6 = dets[i].narrow(1, 0, DetectionMatcher.PredictionWidth);
                var det = DetectionMatcher.ToFloats(det6, DetectionMatcher.PredictionWidth, "detections");
                var original = Evaluate(det, dets[i], gtCls, gtBoxes, sel, h, w, batch, i);
                if (plot)
                {
                    predBoxes![i] = ToImageBoxes(det);
                    labelBoxes![i] = BatchGrid.FromXywhn(gtBoxes, gtCls, h, w);
                }
                OnImage(new ValidationImage(i, dets[i], original, gtCls, gtBoxes, sel, h, w, batch, extra, plot ? predBoxes : null, plot ? labelBoxes : null));
            }
        }
        finally
        {
            foreach (var d in dets) d.Dispose();
        }
        if (plot)
        {
            var dir = Options.SaveDir!;
            string lp = Path.Combine(dir, $"val_batch{batchIndex}_labels.jpg"), pp = Path.Combine(dir, $"val_batch{batchIndex}_pred.jpg");
            BatchGrid.Save(batch.Images, labelBoxes!, MetricNames, batch.Files, lp);
            BatchGrid.Save(batch.Images, predBoxes!, MetricNames, batch.Files, pp);
            _files.Add(lp); _files.Add(pp);
        }
        _images += batch.Count;
        _batches++;
        _batchSizes.Add(batch.Count);
    }

    /// <summary>
    /// This pass's statistics (per image, per batch, loss sums, confusion counts) as bytes, for
    /// data-parallel validation: every rank validates a batch-strided shard, the shards are exchanged,
    /// and <see cref="MergeShards"/> rebuilds the single-process pass (see <see cref="ValidationShard"/>).
    /// Plots and predictions.json stay with the rank that made them.
    /// </summary>
    public byte[] ExportShard()
    {
        var sets = new List<DetectionMetrics> { Evaluator.Metrics };
        sets.AddRange(ExtraMetrics);
        // One layout on every rank, whether or not it had batches: [ranks with losses, one sum per loss name, confusion cells].
        int nl = Options.LossNames.Count;
        if (_lossSums is not null && _lossSums.Length != nl)
            throw new InvalidOperationException($"the loss returned {_lossSums.Length} values for {nl} loss names (ValidatorOptions.LossNames)");
        var sums = new List<double> { _lossSums is null ? 0 : 1 };
        sums.AddRange(_lossSums ?? new double[nl]);
        if (Evaluator.Confusion is { } cm) foreach (var v in cm.Matrix) sums.Add(v);
        return ValidationShard.Export(sets, _batchSizes, sums);
    }

    /// <summary>Replaces this pass's statistics by the union of every rank's <see cref="ExportShard"/>, in single-process order.</summary>
    public void MergeShards(IReadOnlyList<byte[]> shards)
    {
        var merged = ValidationShard.Merge(shards);
        var metrics = Evaluator.Metrics;
        metrics.Reset();
        foreach (var image in merged.Images) metrics.Add(image);
        var extra = ExtraMetrics;
        if (merged.Sets.Count != 1 + extra.Count) throw new InvalidDataException($"validation shards carry {merged.Sets.Count} sets of statistics, this validator keeps {1 + extra.Count}");
        for (int k = 0; k < extra.Count; k++)
        {
            extra[k].Reset();
            foreach (var image in merged.Sets[1 + k]) extra[k].Add(image);
        }
        _batchSizes.Clear();
        _batchSizes.AddRange(merged.BatchSizes);
        var sums = merged.Sums;
        int nl = Options.LossNames.Count;
        _lossSums = sums.Length > 0 && sums[0] > 0 ? sums[1..(1 + nl)] : null;
        if (Evaluator.Confusion is { } cm && sums.Length > 1 + nl)
        {
            var m = cm.Matrix;
            int cols = m.GetLength(1);
            for (int i = 0; i < m.Length; i++) m[i / cols, i % cols] = sums[1 + nl + i];
        }
        _batches = merged.BatchSizes.Count;
        _images = metrics.Images;
    }

    /// <summary>Finishes the pass: metrics, the printed table, plots, predictions.json (and its COCO evaluation).</summary>
    public ValidationResult End()
    {
        var eval = Evaluator;
        var metrics = eval.Compute();
        var masks = ExtraMetrics.Count > 0 ? ExtraMetrics[0].Compute() : null;
        int n = Math.Max(1, _images);
        var speed = new ValidationSpeed(_preMs / n, _inferMs / n, _lossMs / n, _postMs / n);
        var losses = new Dictionary<string, double>();
        if (_lossSums is not null)
            for (int i = 0; i < _lossSums.Length; i++)
                losses[$"val/{(i < Options.LossNames.Count ? Options.LossNames[i] : $"loss{i}")}"] = _lossSums[i] / Math.Max(1, _batches);

        var log = Options.Log;
        if (log is not null)
        {
            bool perClass = Options.Verbose && MetricNames.Count > 1;
            log((masks is null ? MetricsTable.Format(metrics, perClass) : MetricsTable.Format(metrics, masks, perClass)).TrimEnd('\n'));
            if (metrics.Instances == 0) log("WARNING ⚠️ no labels found in the validation set, can not compute metrics without labels");
            if (Options.PrintSpeed) log($"Speed: {speed}");
        }

        CocoEvalResult? coco = null;
        if (WriteFiles)
        {
            var dir = Options.SaveDir!;
            if (Options.Plots)
            {
                _files.AddRange(CurvePlots.SaveAll(metrics, dir, masks is null ? "" : "Box"));
                if (masks is not null) _files.AddRange(CurvePlots.SaveAll(masks, dir, masks.Kind == "P" ? "Pose" : "Mask"));
                _files.AddRange(ConfusionMatrixPlot.SaveBoth(eval.Confusion!, MetricNames, dir));
            }
            if (Options.SaveJson && JsonWriter is null)
                log?.Invoke($"WARNING ⚠️ save_json writes COCO predictions for detection and segmentation; {Task} validation writes none");
            else if (Options.SaveJson)
            {
                var json = Path.Combine(dir, "predictions.json");
                log?.Invoke($"Saving {json}...");
                JsonWriter!.Save(json);
                _files.Add(json);
                if (Options.CocoAnnotations is { } anno)
                {
                    log?.Invoke($"Evaluating pycocotools-style mAP using {json} and {anno}...");
                    var gt = CocoGroundTruth.Load(anno);
                    var ids = eval.ImageFiles.Select(CocoPredictionsWriter.ImageKeyOf).ToList();
                    coco = CocoEval.Evaluate(gt, json, ids);
                    log?.Invoke(coco.Summary().TrimEnd('\n'));
                }
            }
            if ((Options.Plots || Options.SaveJson) && Options.PrintSaveDir) log?.Invoke($"Results saved to {dir}");
        }
        return new ValidationResult(metrics, speed, losses, eval.Confusion, coco, Options.SaveDir, _files.ToList()) { Masks = masks };
    }

    /// <summary>A whole pass of a model in memory over <paramref name="batches"/> (each batch is disposed after use).</summary>
    public ValidationResult Run(DetectionModel model, IEnumerable<Batch> batches, Func<Tensor[], Batch, Tensor>? loss = null)
    {
        bool wasTraining = model.training;
        model.eval();
        try
        {
            Begin();
            int i = 0;
            foreach (var b in batches) using (b) Step(model, b, i++, loss);
            return End();
        }
        finally { if (wasTraining) model.train(); }
    }

    /// <summary>A whole pass through a backend (weights file, ONNX Runtime).</summary>
    public ValidationResult Run(IDetectionBackend backend, IEnumerable<Batch> batches)
    {
        Begin();
        int i = 0;
        foreach (var b in batches) using (b) Step(backend, b, i++);
        return End();
    }

    static void Sync(Device device)
    {
        if (device.type == DeviceType.CUDA) cuda.synchronize(device);
    }

    static ImageBoxes ToImageBoxes(float[] det)
    {
        int n = det.Length / DetectionMatcher.PredictionWidth;
        var xyxy = new float[n * 4]; var c = new int[n]; var conf = new float[n];
        for (int k = 0; k < n; k++)
        {
            Array.Copy(det, k * 6, xyxy, k * 4, 4);
            conf[k] = det[k * 6 + 4];
            c[k] = (int)det[k * 6 + 5];
        }
        return new ImageBoxes(xyxy, c, conf);
    }
}

/// <summary>
/// One validated image as <see cref="DetectionValidator"/> hands it to a task's hook: its index in the batch, the kept
/// detections [n, 6+extra] in input pixels, the same boxes in original pixels (row-major [n,6]), its ground truth
/// (classes and their rows in the batch), the input size, the batch, the task's extra output, and, when this batch
/// is plotted, the tiles' boxes (a task may add to them).
/// </summary>
public readonly record struct ValidationImage(int Index, Tensor Detections, float[] Original, int[] GtClasses, float[] GtBoxes, int[] GtRows,
    int InputHeight, int InputWidth, Batch Batch, Tensor? Extra, ImageBoxes[]? PlotPredictions, ImageBoxes[]? PlotLabels);

