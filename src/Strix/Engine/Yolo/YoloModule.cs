using Strix.Runtime;
using System.Globalization;
using Strix.Data;
using Strix.Engine.Optim;
using Strix.Eval;
using Strix.Loss;
using Strix.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Strix.Engine.Yolo;

/// <summary>
/// YOLOv8 detection training as a <see cref="StrixModule{TBatch}"/>: the training step is the v8 loss
/// on uint8 batches scaled to 0–1 on the device; validation decodes, runs NMS (conf 0.001, multi-label,
/// as Ultralytics validates) and accumulates mAP in original-image pixels, plus the validation losses;
/// the optimizer and schedule follow Ultralytics' <c>build_optimizer</c> (three parameter groups,
/// nominal batch 64, <c>optimizer=auto</c>) and warm-up.
/// </summary>
public sealed class YoloModule : StrixModule<Batch>
{
    /// <summary>Ultralytics' results.csv columns after <c>epoch</c>.</summary>
    public static readonly string[] ResultColumns =
    {
        "train/box_loss", "train/cls_loss", "train/dfl_loss",
        "metrics/precision(B)", "metrics/recall(B)", "metrics/mAP50(B)", "metrics/mAP50-95(B)",
        "val/box_loss", "val/cls_loss", "val/dfl_loss", "lr/pg0", "lr/pg1", "lr/pg2",
    };

    readonly DetectionLoss _loss;
    readonly TrainingArguments _args;
    readonly int _trainImages;
    DetectionMetrics? _metrics;
    ConfusionMatrix? _confusion;
    double[] _valLoss = new double[3];
    int _valBatches;
    readonly List<int> _valBatchSizes = new();

    public YoloModule(DetectionModel model, IReadOnlyList<string> names, TrainingArguments args, int trainImages, TextWriter? log = null)
        : base(model)
    {
        if (names.Count != model.NumClasses) throw new ArgumentException($"{names.Count} class names for a model with {model.NumClasses} classes");
        Detector = model;
        Names = names.ToArray();
        _args = args;
        _trainImages = trainImages;
        Out = log ?? Console.Out;
        _loss = new DetectionLoss(model, args.GetDouble("box"), args.GetDouble("cls"), args.GetDouble("dfl"));
        SingleClass = args.GetBool("single_cls");
    }

    public DetectionModel Detector { get; }
    public IReadOnlyList<string> Names { get; }
    public bool SingleClass { get; }
    TextWriter Out { get; }
    /// <summary>The results of the last validation.</summary>
    public DetectionResults? LastResults { get; private set; }
    public ConfusionMatrix? LastConfusion => _confusion;
    /// <summary>Print the per-class table after validation (the final evaluation does).</summary>
    public bool PerClassTable { get; set; }
    /// <summary>Optimizer Ultralytics' rules picked (after <see cref="ConfigureOptimizers"/>).</summary>
    public string OptimizerSummary { get; private set; } = "";

    /// <summary>
    /// Ultralytics' choice for <c>optimizer=auto</c>: SGD(lr 0.01, momentum 0.9) for more than 10 000
    /// iterations, else AdamW with lr = round(0.002·5/(4+nc), 6) and momentum 0.9.
    /// </summary>
    public static (string Name, double Lr, double Momentum) AutoOptimizer(long iterations, int nc) =>
        iterations > 10000 ? ("SGD", 0.01, 0.9) : ("AdamW", Math.Round(0.002 * 5 / (4 + nc), 6), 0.9);

    /// <summary>Ultralytics: accumulate = max(round(nbs/batch), 1); weight decay × batch·accumulate/nbs.</summary>
    public static (int Accumulate, double WeightDecay) NominalBatch(int batch, int nbs, double weightDecay)
    {
        int accumulate = Math.Max((int)Math.Round((double)nbs / batch), 1);
        return (accumulate, weightDecay * batch * accumulate / nbs);
    }

    public override OptimizerConfig ConfigureOptimizers()
    {
        int batch = _args.Batch, nbs = _args.GetInt("nbs");
        var (_, decay) = NominalBatch(batch, nbs, _args.GetDouble("weight_decay"));
        long iterations = (long)Math.Ceiling((double)_trainImages / Math.Max(batch, nbs)) * Trainer.MaxEpochs;
        string name = _args.GetString("optimizer") ?? "auto";
        double lr = _args.GetDouble("lr0"), momentum = _args.GetDouble("momentum"), warmupBiasLr = _args.GetDouble("warmup_bias_lr");
        if (name.Equals("auto", StringComparison.OrdinalIgnoreCase))
        {
            (name, lr, momentum) = AutoOptimizer(iterations, Names.Count);
            warmupBiasLr = 0.0; // no higher than lr0 for Adam
            Out.WriteLine($"optimizer: 'optimizer=auto' found, ignoring 'lr0={_args.GetDouble("lr0").ToString(CultureInfo.InvariantCulture)}' and " +
                $"'momentum={_args.GetDouble("momentum").ToString(CultureInfo.InvariantCulture)}' and determining best 'optimizer', 'lr0' and 'momentum' automatically...");
        }
        var groups = ParameterGroups.Yolo(Detector, lr, momentum, decay);
        var opt = ParameterGroups.Create(name, groups);
        var sched = new YoloLrScheduler(opt, _args.GetDouble("lrf"), _args.GetBool("cos_lr"), _args.GetDouble("warmup_epochs"),
            warmupBiasLr, _args.GetDouble("warmup_momentum"), _args.GetDouble("momentum"), nbs, batch);
        OptimizerSummary = string.Create(CultureInfo.InvariantCulture,
            $"{opt.Name}(lr={lr}, momentum={momentum}) with parameter groups {groups[2].Parameters.Count} weight(decay=0.0), " +
            $"{groups[1].Parameters.Count} weight(decay={decay}), {groups[0].Parameters.Count} bias(decay=0.0)");
        Out.WriteLine($"optimizer: {OptimizerSummary}");
        return new OptimizerConfig(opt, sched);
    }

    public override Batch TransferBatchToDevice(Batch batch, Device device)
    {
        if (batch.Images.device == device) return batch;
        return new Batch
        {
            Images = batch.Images.to(device), BatchIdx = batch.BatchIdx.to(device), Cls = batch.Cls.to(device),
            Bboxes = batch.Bboxes.to(device), Files = batch.Files, OriginalShapes = batch.OriginalShapes,
            ResizedShapes = batch.ResizedShapes, RatioPad = batch.RatioPad, Count = batch.Count,
        };
    }

    Tensor Classes(Batch batch) => SingleClass ? zeros_like(batch.Cls) : batch.Cls;

    public override Tensor TrainingStep(Batch batch, int batchIdx)
    {
        var images = batch.FloatImages(batch.Images.device);
        var preds = Detector.forward(images);
        var (loss, items) = _loss.Compute(preds, batch.BatchIdx, Classes(batch), batch.Bboxes);
        var v = TensorArrays.Floats(items);
        Log("train/box_loss", v[0], progBar: true);
        Log("train/cls_loss", v[1], progBar: true);
        Log("train/dfl_loss", v[2], progBar: true);
        Log("Instances", batch.Cls.shape[0], progBar: true, onEpoch: false);
        Log("Size", images.shape[3], progBar: true, onEpoch: false);
        return loss;
    }

    public override void OnValidationEpochStart()
    {
        _metrics = new DetectionMetrics(Names);
        _confusion = new ConfusionMatrix(Names.Count);
        _valLoss = new double[3];
        _valBatches = 0;
        _valBatchSizes.Clear();
    }

    public override void ValidationStep(Batch batch, int batchIdx)
    {
        var images = batch.FloatImages(batch.Images.device);
        var preds = Detector.forward(images);
        var cls = Classes(batch);
        var (_, items) = _loss.Compute(preds, batch.BatchIdx, cls, batch.Bboxes);
        var v = TensorArrays.Floats(items);
        for (int k = 0; k < 3; k++) _valLoss[k] += v[k];
        _valBatches++;
        _valBatchSizes.Add(batch.Count);

        var decoded = Detector.Head.Decode(preds);
        var dets = Nms.NonMaxSuppression(decoded, new NmsOptions
        {
            Conf = 0.001, Iou = _args.GetDouble("iou"), MaxDet = _args.GetInt("max_det"), MultiLabel = true, Agnostic = SingleClass,
        });
        long h = images.shape[2], w = images.shape[3];
        var scale = tensor(new float[] { w, h, w, h }, device: images.device);
        var idx = batch.BatchIdx.cpu();
        for (int i = 0; i < dets.Length; i++)
        {
            using var scope = NewDisposeScope();
            var (oh, ow) = batch.OriginalShapes[i];
            var (rw, rh, pw, ph) = batch.RatioPad[i];
            using var image = i.ToScalar();
            var mask = idx.eq(image).to(images.device);
            var gtBoxes = BoxOps.ScaleBoxes(BoxOps.XywhToXyxy(batch.Bboxes[mask] * scale), rw, rh, pw, ph, oh, ow);
            var gtCls = cls[mask];
            var pred = dets[i];
            var predn = pred.shape[0] == 0 ? pred
                : cat(new[] { BoxOps.ScaleBoxes(pred[.., ..4], rw, rh, pw, ph, oh, ow), pred[.., 4..] }, 1);
            _metrics!.Update(predn, gtBoxes, gtCls);
            _confusion!.Process(predn, gtBoxes, gtCls);
            dets[i].Dispose();
        }
    }

    public override void OnValidationEpochEnd()
    {
        if (_metrics is null) return;
        if (Trainer.Strategy.IsDistributed) MergeRankShards();
        var r = _metrics.Compute();
        LastResults = r;
        foreach (var (k, val) in r.ToDictionary())
            if (k != "fitness") Log(k, val);
        string[] names = { "val/box_loss", "val/cls_loss", "val/dfl_loss" };
        for (int k = 0; k < 3; k++) Log(names[k], _valLoss[k] / Math.Max(1, _valBatches));
        Log("fitness", r.Fitness);
        Out.Write(MetricsTable.Format(r, perClass: PerClassTable));
    }

    /// <summary>
    /// Data-parallel validation: every rank validated whole batches r, r+W, …; all ranks exchange their
    /// per-image statistics, losses and confusion counts and rebuild the single-process pass, so the
    /// metrics (and the fitness early stopping watches) are those of one process and agree on every rank.
    /// </summary>
    void MergeRankShards()
    {
        var group = Trainer.Strategy.Group;
        var merged = ValidationShard.Merge(group.AllGatherBytes(ValidationShard.Export(_metrics!, _valBatchSizes, _valLoss)));
        _metrics = new DetectionMetrics(Names);
        foreach (var image in merged.Images) _metrics.Add(image);
        _valLoss = merged.Sums.Length == 3 ? merged.Sums : new double[3];
        _valBatches = merged.BatchSizes.Count;
        if (_confusion is not null)
        {
            var m = _confusion.Matrix;
            int rows = m.GetLength(0), cols = m.GetLength(1);
            var flat = new double[rows * cols];
            Buffer.BlockCopy(m, 0, flat, 0, flat.Length * sizeof(double));
            using var t = tensor(flat);
            group.AllReduceSum(t);
            Buffer.BlockCopy(t.data<double>().ToArray(), 0, m, 0, flat.Length * sizeof(double));
        }
    }

    public override void OnSaveCheckpoint(Checkpoint checkpoint)
    {
        var meta = ModelMetadata.For(Detector, Names, _args.ImgSz) with
        {
            TrainArgs = _args.Items().ToDictionary(kv => kv.Key, kv => kv.Value),
        };
        foreach (var (k, v) in meta.ToDictionary()) checkpoint.Metadata[k] = v;
        checkpoint.Args = new System.Text.Json.Nodes.JsonObject(_args.Items().Select(kv =>
            KeyValuePair.Create(kv.Key, (System.Text.Json.Nodes.JsonNode?)System.Text.Json.Nodes.JsonValue.Create(kv.Value))));
    }
}
