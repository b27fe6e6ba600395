using Strix.Config;
using Strix.Data;
using Strix.Loss;
using Strix.Models;
using Strix.Tasks.Detect;
using static TorchSharp.torch;

namespace Strix.Tasks.Obb;

/// <summary>
/// YOLOv8-OBB as a training module: the detection module's loop with the OBB loss (ProbIoU box, cls, DFL) on the batch's
/// rotated boxes, and the <see cref="ObbValidator"/>'s rotated-box metrics in Ultralytics' <c>(B)</c> columns.
/// </summary>
public sealed class ObbModule : DetectionModule
{
    readonly ObbLoss _loss;

    public ObbModule(DetectionModel model, IReadOnlyList<string> names, TrainConfig config, int trainImages, TextWriter? log = null)
        : this(model, names, config, trainImages, log, new ObbLoss(model, config.Box, config.Cls, config.Dfl)) { }

    ObbModule(DetectionModel model, IReadOnlyList<string> names, TrainConfig config, int trainImages, TextWriter? log, ObbLoss loss)
        : base(model, names, config, trainImages, log, loss.Detection) => _loss = loss;

    protected override IReadOnlyList<string> LossNames => ObbLoss.ItemNames;

    protected override (Tensor Loss, Tensor Items) ComputeLoss(Tensor[] preds, Batch batch)
    {
        var rboxes = batch.OrientedBoxes ?? throw new InvalidOperationException(
            $"task=obb: the batch has no rotated boxes (the loader was built without DataLoaderOptions.OrientedBoxes); first image {batch.Files.FirstOrDefault()}");
        var cls = Classes(batch);
        return _loss.Compute(preds, batch.BatchIdx, cls, rboxes);
    }

    protected override DetectionValidator CreateValidator(ValidatorOptions options) => new ObbValidator(Names, options);
}
