using Strix.Config;
using Strix.Data;
using Strix.Models;
using Strix.Runtime;
using static TorchSharp.torch;

namespace Strix.Tasks.Classify;

/// <summary>
/// YOLO classification as a training module: the training step is the cross-entropy of the Classify head's logits
/// against each image's class (Ultralytics' <c>v8ClassificationLoss</c>, mean over the batch); validation is the
/// <see cref="ClassificationValidator"/> (top-1 / top-5 accuracy, val/loss), merged over data-parallel ranks.
/// Fitness is the mean of top-1 and top-5, as in Ultralytics.
/// </summary>
public sealed class ClassificationModule : TaskModule
{
    /// <summary>Ultralytics' results.csv columns after <c>epoch</c> for classification.</summary>
    public static readonly IReadOnlyList<string> Columns = new[]
    {
        "train/loss", "metrics/accuracy_top1", "metrics/accuracy_top5", "val/loss", "lr/pg0", "lr/pg1", "lr/pg2",
    };

    public ClassificationModule(DetectionModel model, IReadOnlyList<string> names, TrainConfig config, int trainImages, TextWriter? log = null)
        : base(model, names, config, trainImages, log)
    {
        if (model.ClassifyHead is null) throw new ArgumentException($"task=classify needs a classification model (e.g. yolov8n-cls); {model.Name} is a {model.Task} model");
        Validator = NewValidator(plotsDir: null, final: false);
    }

    public override IReadOnlyList<string> ResultColumns => Columns;

    /// <summary>The validator the hooks feed; <see cref="UseFinalValidation"/> replaces it.</summary>
    public ClassificationValidator Validator { get; private set; }
    /// <summary>What the last validation produced.</summary>
    public ClassificationResult? LastValidation { get; private set; }

    ClassificationValidator NewValidator(string? plotsDir, bool final) => new(Names, new ValidatorOptions
    {
        Plots = plotsDir is not null, SaveDir = plotsDir, Verbose = final, PrintSpeed = final, PrintSaveDir = false,
        Log = line => Out.WriteLine(line),
    });

    public override void UseFinalValidation(string? plotsDir) => Validator = NewValidator(plotsDir, final: true);

    /// <summary>Classification has no mosaic, so no close_mosaic notice.</summary>
    public override void OnTrainEpochStart() { }

    /// <summary>Mean cross-entropy of <paramref name="logits"/> [B, nc] against the batch's classes.</summary>
    public static Tensor Loss(Tensor logits, Batch batch)
    {
        using var targets = batch.Cls.to(ScalarType.Int64);
        return nn.functional.cross_entropy(logits, targets);
    }

    public override Tensor TrainingStep(Batch batch, int batchIdx)
    {
        var profiler = Trainer.Profiler;
        var images = batch.ModelInput(batch.Images.device);
        Tensor logits;
        using (profiler.Profile("training_step/forward")) logits = Detector.forward(images)[0];
        Tensor loss;
        using (profiler.Profile("training_step/loss")) loss = Loss(logits, batch);
        using (var detached = loss.detach()) Log("train/loss", TensorArrays.Floats(detached)[0], progBar: true);
        Log("Instances", batch.Count, progBar: true, onEpoch: false);
        Log("Size", images.shape[3], progBar: true, onEpoch: false);
        return loss;
    }

    public override void OnValidationEpochStart() => Validator.Begin();

    public override void ValidationStep(Batch batch, int batchIdx) => Validator.Step(Detector, batch, batchIdx);

    public override void OnValidationEpochEnd()
    {
        if (Trainer.Strategy.IsDistributed) Validator.MergeShards(Trainer.Strategy.Group.AllGatherBytes(Validator.ExportShard()));
        var result = Validator.End();
        LastValidation = result;
        foreach (var (k, v) in result.ToDictionary())
            if (k != "fitness") Log(k, v);
        Log("fitness", result.Metrics.Fitness);
    }
}
