using Strix.Config;
using Strix.Data;
using Strix.Loss;
using Strix.Models;
using Strix.Runtime;
using static TorchSharp.torch;

namespace Strix.Tasks.Detect;

/// <summary>
/// YOLOv8 detection as a training module: the training step is the v8 loss (box, cls, dfl) on uint8
/// batches scaled to 0–1 on the device; validation is the one <see cref="DetectionValidator"/> (the
/// same NMS and metrics as <c>strix val</c>) fed from the trainer's hooks, sharded under data-parallel
/// training and merged so every rank sees the single-process metrics.
/// </summary>
public sealed class DetectionModule : TaskModule
{
    /// <summary>Ultralytics' results.csv columns after <c>epoch</c>.</summary>
    public static readonly IReadOnlyList<string> Columns = new[]
    {
        "train/box_loss", "train/cls_loss", "train/dfl_loss",
        "metrics/precision(B)", "metrics/recall(B)", "metrics/mAP50(B)", "metrics/mAP50-95(B)",
        "val/box_loss", "val/cls_loss", "val/dfl_loss", "lr/pg0", "lr/pg1", "lr/pg2",
    };

    readonly DetectionLoss _loss;

    public DetectionModule(DetectionModel model, IReadOnlyList<string> names, TrainConfig config, int trainImages, TextWriter? log = null)
        : base(model, names, config, trainImages, log)
    {
        _loss = new DetectionLoss(model, config.Box, config.Cls, config.Dfl);
        Validator = NewValidator(final: false, plotsDir: null);
    }

    public override IReadOnlyList<string> ResultColumns => Columns;

    /// <summary>The validator the hooks feed; <see cref="UseFinalValidation"/> replaces it.</summary>
    public DetectionValidator Validator { get; private set; }
    /// <summary>What the last validation produced.</summary>
    public ValidationResult? LastValidation { get; private set; }

    DetectionValidator NewValidator(bool final, string? plotsDir) => new(Names, new ValidatorOptions
    {
        Iou = Config.Iou, MaxDet = Config.MaxDet, SingleCls = Config.SingleCls,
        Plots = plotsDir is not null, SaveDir = plotsDir, Verbose = final, PrintSpeed = final, PrintSaveDir = false,
        Log = line => Out.WriteLine(line),
    });

    public override void UseFinalValidation(string? plotsDir) => Validator = NewValidator(final: true, plotsDir);

    /// <summary>The labels' classes as trained: all 0 under <c>single_cls</c>.</summary>
    Tensor Classes(Batch batch) => Config.SingleCls ? zeros_like(batch.Cls) : batch.Cls;

    public override Tensor TrainingStep(Batch batch, int batchIdx)
    {
        var profiler = Trainer.Profiler;
        var images = batch.ModelInput(batch.Images.device);
        Tensor[] preds;
        using (profiler.Profile("training_step/forward")) preds = Detector.forward(images);
        Tensor loss, items;
        using (profiler.Profile("training_step/loss")) (loss, items) = _loss.Compute(preds, batch.BatchIdx, Classes(batch), batch.Bboxes);
        var v = TensorArrays.Floats(items);
        Log("train/box_loss", v[0], progBar: true);
        Log("train/cls_loss", v[1], progBar: true);
        Log("train/dfl_loss", v[2], progBar: true);
        Log("Instances", batch.Cls.shape[0], progBar: true, onEpoch: false);
        Log("Size", images.shape[3], progBar: true, onEpoch: false);
        return loss;
    }

    /// <summary>Times the loss's parts (<c>loss/assigner</c>) under the trainer's profiler, for this fit or validation only.</summary>
    public override void Setup(string stage)
    {
        base.Setup(stage);
        var profiler = Trainer.Profiler;
        _loss.Profile = profiler.Enabled ? part => profiler.Profile($"loss/{part}") : null;
    }

    public override void Teardown(string stage)
    {
        _loss.Profile = null;
        base.Teardown(stage);
    }

    public override void OnValidationEpochStart() => Validator.Begin();

    public override void ValidationStep(Batch batch, int batchIdx) => Validator.Step(Detector, batch, batchIdx, ValidationLoss);

    Tensor ValidationLoss(Tensor[] raw, Batch batch)
    {
        var (loss, items) = _loss.Compute(raw, batch.BatchIdx, Classes(batch), batch.Bboxes);
        loss.Dispose();
        return items;
    }

    public override void OnValidationEpochEnd()
    {
        if (Trainer.Strategy.IsDistributed) Validator.MergeShards(Trainer.Strategy.Group.AllGatherBytes(Validator.ExportShard()));
        var result = Validator.End();
        LastValidation = result;
        foreach (var (k, v) in result.Metrics.ToDictionary())
            if (k != "fitness") Log(k, v);
        foreach (var (k, v) in result.Losses) Log(k, v);
        Log("fitness", result.Fitness);
    }
}
