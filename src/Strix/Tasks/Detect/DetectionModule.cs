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
/// training and merged so every rank sees the single-process metrics. Segmentation extends it with its loss,
/// validator and columns.
/// </summary>
public class DetectionModule : TaskModule
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
        : this(model, names, config, trainImages, log, new DetectionLoss(model, config.Box, config.Cls, config.Dfl)) { }

    /// <summary>For a task whose loss builds on <paramref name="loss"/> (the part timed under the profiler).</summary>
    protected DetectionModule(DetectionModel model, IReadOnlyList<string> names, TrainConfig config, int trainImages, TextWriter? log, DetectionLoss loss)
        : base(model, names, config, trainImages, log)
    {
        _loss = loss;
        Validator = NewValidator(final: false, plotsDir: null);
    }

    public override IReadOnlyList<string> ResultColumns => Columns;

    /// <summary>The loss items' names (<c>train/…</c> and <c>val/…</c> in results.csv), in the order <see cref="ComputeLoss"/> returns them.</summary>
    protected virtual IReadOnlyList<string> LossNames { get; } = new[] { "box_loss", "cls_loss", "dfl_loss" };

    /// <summary>The task's loss on the head's raw outputs: the scalar to minimise and its detached items.</summary>
    protected virtual (Tensor Loss, Tensor Items) ComputeLoss(Tensor[] preds, Batch batch) =>
        _loss.Compute(preds, batch.BatchIdx, Classes(batch), batch.Bboxes);

    /// <summary>The validator for these options (the task's own; detection's by default).</summary>
    protected virtual DetectionValidator CreateValidator(ValidatorOptions options) => new(Names, options);

    /// <summary>The validator the hooks feed; <see cref="UseFinalValidation"/> replaces it.</summary>
    public DetectionValidator Validator { get; private set; }
    /// <summary>What the last validation produced.</summary>
    public ValidationResult? LastValidation { get; private set; }

    DetectionValidator NewValidator(bool final, string? plotsDir) => CreateValidator(new ValidatorOptions
    {
        Iou = Config.Iou, MaxDet = Config.MaxDet, SingleCls = Config.SingleCls,
        Plots = plotsDir is not null, SaveDir = plotsDir, Verbose = final, PrintSpeed = final, PrintSaveDir = false,
        LossNames = LossNames, Log = line => Out.WriteLine(line),
    });

    public override void UseFinalValidation(string? plotsDir) => Validator = NewValidator(final: true, plotsDir);

    /// <summary>The labels' classes as trained: all 0 under <c>single_cls</c>.</summary>
    protected Tensor Classes(Batch batch) => Config.SingleCls ? zeros_like(batch.Cls) : batch.Cls;

    public override Tensor TrainingStep(Batch batch, int batchIdx)
    {
        var profiler = Trainer.Profiler;
        var images = batch.ModelInput(batch.Images.device);
        Tensor[] preds;
        using (profiler.Profile("training_step/forward")) preds = Detector.forward(images);
        Tensor loss, items;
        using (profiler.Profile("training_step/loss")) (loss, items) = ComputeLoss(preds, batch);
        var v = TensorArrays.Floats(items);
        for (int i = 0; i < LossNames.Count; i++) Log($"train/{LossNames[i]}", v[i], progBar: true);
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
        var (loss, items) = ComputeLoss(raw, batch);
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
        if (result.Masks is { } masks)
            foreach (var (k, v) in masks.ToDictionary())
                if (k != "fitness") Log(k, v);
        foreach (var (k, v) in result.Losses) Log(k, v);
        Log("fitness", result.Fitness);
    }
}
