using Strix.Config;
using Strix.Data;
using Strix.Loss;
using Strix.Models;
using Strix.Tasks.Detect;
using static TorchSharp.torch;

namespace Strix.Tasks.Pose;

/// <summary>
/// YOLOv8-pose as a training module: the detection module's loop with the pose loss (box, pose, kobj, cls, dfl) on the
/// batch's keypoints, and the <see cref="PoseValidator"/>'s box and keypoint metrics (Ultralytics' <c>(B)</c> and
/// <c>(P)</c> columns; fitness is the sum of both).
/// </summary>
public sealed class PoseModule : DetectionModule
{
    /// <summary>Ultralytics' results.csv columns after <c>epoch</c> for pose.</summary>
    public static new readonly IReadOnlyList<string> Columns = new[]
    {
        "train/box_loss", "train/pose_loss", "train/kobj_loss", "train/cls_loss", "train/dfl_loss",
        "metrics/precision(B)", "metrics/recall(B)", "metrics/mAP50(B)", "metrics/mAP50-95(B)",
        "metrics/precision(P)", "metrics/recall(P)", "metrics/mAP50(P)", "metrics/mAP50-95(P)",
        "val/box_loss", "val/pose_loss", "val/kobj_loss", "val/cls_loss", "val/dfl_loss", "lr/pg0", "lr/pg1", "lr/pg2",
    };

    readonly PoseLoss _loss;

    public PoseModule(DetectionModel model, IReadOnlyList<string> names, TrainConfig config, int trainImages, TextWriter? log = null)
        : this(model, names, config, trainImages, log, new PoseLoss(model, config.Box, config.Cls, config.Dfl, config.PoseGain, config.Kobj)) { }

    PoseModule(DetectionModel model, IReadOnlyList<string> names, TrainConfig config, int trainImages, TextWriter? log, PoseLoss loss)
        : base(model, names, config, trainImages, log, loss.Detection) => _loss = loss;

    public override IReadOnlyList<string> ResultColumns => Columns;

    protected override IReadOnlyList<string> LossNames => PoseLoss.ItemNames;

    protected override (Tensor Loss, Tensor Items) ComputeLoss(Tensor[] preds, Batch batch)
    {
        var keypoints = batch.Keypoints ?? throw new InvalidOperationException(
            $"task=pose: the batch has no keypoints (the loader was built without the dataset's kpt_shape); first image {batch.Files.FirstOrDefault()}");
        return _loss.Compute(preds, batch.BatchIdx, Classes(batch), batch.Bboxes, keypoints);
    }

    protected override DetectionValidator CreateValidator(ValidatorOptions options) =>
        new PoseValidator(Names, _loss?.KptShape ?? Detector.KptShape!, options with { LossNames = PoseLoss.ItemNames });
}
