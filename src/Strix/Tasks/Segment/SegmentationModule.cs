using Strix.Config;
using Strix.Data;
using Strix.Loss;
using Strix.Models;
using Strix.Tasks.Detect;
using static TorchSharp.torch;

namespace Strix.Tasks.Segment;

/// <summary>
/// YOLOv8-seg as a training module: the detection module's loop with the segmentation loss (box, seg, cls, dfl) on
/// the batch's target masks, and the <see cref="SegmentationValidator"/>'s box and mask metrics (Ultralytics'
/// <c>(B)</c> and <c>(M)</c> columns; fitness is the sum of both).
/// </summary>
public sealed class SegmentationModule : DetectionModule
{
    /// <summary>Ultralytics' results.csv columns after <c>epoch</c> for segmentation.</summary>
    public static new readonly IReadOnlyList<string> Columns = new[]
    {
        "train/box_loss", "train/seg_loss", "train/cls_loss", "train/dfl_loss",
        "metrics/precision(B)", "metrics/recall(B)", "metrics/mAP50(B)", "metrics/mAP50-95(B)",
        "metrics/precision(M)", "metrics/recall(M)", "metrics/mAP50(M)", "metrics/mAP50-95(M)",
        "val/box_loss", "val/seg_loss", "val/cls_loss", "val/dfl_loss", "lr/pg0", "lr/pg1", "lr/pg2",
    };

    readonly SegmentationLoss _loss;

    public SegmentationModule(DetectionModel model, IReadOnlyList<string> names, TrainConfig config, int trainImages, TextWriter? log = null)
        : this(model, names, config, trainImages, log, new SegmentationLoss(model, config.Box, config.Cls, config.Dfl, config.OverlapMask)) { }

    SegmentationModule(DetectionModel model, IReadOnlyList<string> names, TrainConfig config, int trainImages, TextWriter? log, SegmentationLoss loss)
        : base(model, names, config, trainImages, log, loss.Detection) => _loss = loss;

    public override IReadOnlyList<string> ResultColumns => Columns;

    protected override IReadOnlyList<string> LossNames => SegmentationLoss.ItemNames;

    protected override (Tensor Loss, Tensor Items) ComputeLoss(Tensor[] preds, Batch batch)
    {
        var masks = batch.Masks ?? throw new InvalidOperationException(
            $"task=segment: the batch has no target masks (the loader was built without DataLoaderOptions.Segments); first image {batch.Files.FirstOrDefault()}");
        return _loss.Compute(preds, batch.BatchIdx, Classes(batch), batch.Bboxes, masks);
    }

    protected override DetectionValidator CreateValidator(ValidatorOptions options) =>
        new SegmentationValidator(Names, options with { LossNames = SegmentationLoss.ItemNames });
}
