using Strix.Data;
using Strix.Engine.Optim;
using Strix.Eval;
using Strix.Loss;
using Strix.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Strix.Engine.Yolo;

/// <summary>
/// YOLOv8 detection training as a <see cref="StrixModule{TBatch}"/>: the loss on each batch, the
/// validator on the EMA weights, Ultralytics' optimizer rule and three parameter groups, warm-up and
/// decay, and mosaic switched off for the last <c>close_mosaic</c> epochs.
/// </summary>
public sealed class YoloModule : StrixModule<Batch>
{
    readonly DetectionLoss _loss;
    readonly Validator _validator;
    readonly DataLoader _train;

    readonly string? _plotDir;

    /// <param name="plotDir">Where to write train_batch0..2.jpg (null: no plots).</param>
    public YoloModule(DetectionModel model, TrainArgs args, IReadOnlyList<string> names, DataLoader train, Validator validator, string? plotDir = null) : base(model)
    {
        _plotDir = plotDir;
        Detector = model;
        Args = args;
        Names = names;
        _train = train;
        _validator = validator;
        _loss = new DetectionLoss(model, args.Box, args.Cls, args.Dfl);
    }

    public DetectionModel Detector { get; }
    public TrainArgs Args { get; }
    public IReadOnlyList<string> Names { get; }
    /// <summary>The last validation's result (metrics, speed, losses).</summary>
    public ValidationResult? LastValidation { get; private set; }

    /// <summary>Ultralytics' <c>optimizer=auto</c>: SGD for long runs, else AdamW with an lr fitted to the class count.</summary>
    public static (string Name, double Lr, double Momentum) ResolveOptimizer(string optimizer, double lr0, double momentum, int nc, long iterations)
    {
        if (!optimizer.Equals("auto", StringComparison.OrdinalIgnoreCase)) return (optimizer, lr0, momentum);
        if (iterations > 10_000) return ("SGD", 0.01, 0.9);
        return ("AdamW", Math.Round(0.002 * 5 / (4 + nc), 6), 0.9);
    }

    public override OptimizerConfig ConfigureOptimizers()
    {
        int accumulate = Math.Max((int)Math.Round((double)Args.Nbs / Args.Batch), 1);
        double weightDecay = Args.WeightDecay * Args.Batch * accumulate / Args.Nbs;
        long iterations = (long)Math.Ceiling((double)Trainer.BatchesPerEpoch * Args.Batch / Math.Max(Args.Batch, Args.Nbs)) * Trainer.MaxEpochs;
        var (name, lr, momentum) = ResolveOptimizer(Args.Optimizer, Args.Lr0, Args.Momentum, Detector.NumClasses, iterations);
        if (Args.Optimizer.Equals("auto", StringComparison.OrdinalIgnoreCase))
            Trainer.Out.WriteLine($"optimizer: 'optimizer=auto' found, chose {name}(lr={lr}, momentum={momentum}) for {iterations} iterations and {Detector.NumClasses} classes");
        var groups = ParameterGroups.Yolo(Detector, lr, momentum, weightDecay);
        var opt = ParameterGroups.Create(name, groups);
        var schedule = new YoloLrScheduler(opt, Args.Lrf, Args.CosLr, Args.WarmupEpochs, Args.WarmupBiasLr,
            Args.WarmupMomentum, momentum, Args.Nbs, Args.Batch);
        return new OptimizerConfig(opt, schedule);
    }

    /// <summary>uint8 RGB batch → float 0–1 on the model's device.</summary>
    public static Tensor Preprocess(Batch batch, Device device) =>
        batch.Images.to(device).to(ScalarType.Float32).div_(255f);

    /// <summary>Class targets as the model sees them (all zero for single_cls).</summary>
    Tensor Classes(Batch batch) => Args.SingleCls ? zeros_like(batch.Cls, device: Device) : batch.Cls.to(Device);

    public override void OnTrainBatchStart(Batch batch, int batchIdx)
    {
        if (_plotDir is not null && Trainer.Epoch == 0 && batchIdx < 3 && !Trainer.FastDevRun)
            DataPlots.PlotBatch(batch, Names, Path.Combine(_plotDir, $"train_batch{batchIdx}.jpg"));
    }

    public override Tensor TrainingStep(Batch batch, int batchIdx)
    {
        var images = Preprocess(batch, Device);
        var preds = Detector.call(images);
        var (loss, items) = _loss.Compute(preds, batch.BatchIdx.to(Device), Classes(batch), batch.Bboxes.to(Device));
        var v = items.cpu().data<float>().ToArray();
        Log("train/box_loss", v[0], progBar: true);
        Log("train/cls_loss", v[1], progBar: true);
        Log("train/dfl_loss", v[2], progBar: true);
        Log("Instances", batch.BatchIdx.shape[0], progBar: true, onEpoch: false);
        Log("Size", batch.Images.shape[3], progBar: true, onEpoch: false);
        return loss;
    }

    /// <summary>Mosaic on or off is a function of the epoch alone, so a resumed run sees what an uninterrupted one would.</summary>
    public override void OnTrainEpochStart()
    {
        int closeAt = Trainer.MaxEpochs - Args.Hyp.CloseMosaic;
        bool close = Args.Hyp.CloseMosaic > 0 && Trainer.Epoch >= closeAt;
        if (close && _train.MosaicEnabled)
        {
            Trainer.Out.WriteLine("Closing dataloader mosaic");
            _train.CloseMosaic();
        }
        else if (!close && !_train.MosaicEnabled) _train.Dataset.OpenMosaic();
    }

    public override void OnValidationStart() => _validator.Begin();

    public override void ValidationStep(Batch batch, int batchIdx) =>
        _validator.Step(Detector, batch, batchIdx, (raw, b) =>
        {
            var (_, items) = _loss.Compute(raw, b.BatchIdx.to(Device), Classes(b), b.Bboxes.to(Device));
            return items;
        });

    public override void OnValidationEpochEnd()
    {
        // Data-parallel: every rank validated a shard; all take every shard so each computes the
        // single-process metrics (and every rank agrees on fitness, e.g. for early stopping).
        if (Trainer.Strategy.IsDistributed)
            _validator.MergeShards(Trainer.Strategy.Group.AllGatherBytes(_validator.ExportShard()));
        var r = _validator.End();
        LastValidation = r;
        var m = r.Metrics;
        Log("metrics/precision(B)", m.MeanPrecision);
        Log("metrics/recall(B)", m.MeanRecall);
        Log("metrics/mAP50(B)", m.Map50);
        Log("metrics/mAP50-95(B)", m.Map);
        foreach (var (k, v) in r.Losses) Log(k, v); // keys are already val/box_loss …
        Log("fitness", r.Fitness);
    }

    /// <summary>Checkpoints carry the model metadata, so <c>best</c>/<c>last</c> load anywhere a weights file does.</summary>
    public override void OnSaveCheckpoint(Checkpoint checkpoint)
    {
        var meta = ModelMetadata.For(Detector, Names, Args.ImgSz) with
        {
            TrainArgs = Args.ToDictionary().ToDictionary(kv => kv.Key, kv => kv.Value),
        };
        foreach (var (k, v) in meta.ToDictionary())
            if (k != "format") checkpoint.Metadata[k] = v;
    }
}
