using Strix.Config;
using Strix.Engine.Strategies;
using Strix.Tasks;

namespace Strix.Cli.Commands;

/// <summary>
/// <c>strix train data=… model=yolov8n epochs=100 imgsz=640 …</c> with Ultralytics' argument names
/// (see <see cref="TrainConfig"/>); <c>strix train resume model=…/last.safetensors</c>
/// continues a run exactly. With no arguments at all it trains yolov8n on the built-in shapes dataset
/// at a size that finishes in minutes on a laptop CPU. Under <c>mpirun -np N</c> (or <c>srun</c>) it
/// trains data-parallel on N ranks (docs/distributed.md).
/// </summary>
public sealed class TrainCommand : ICommand
{
    /// <summary>What a bare <c>strix train</c> runs.</summary>
    /// <remarks>
    /// <c>nbs=16</c>: one optimizer step per batch. With Ultralytics' nominal 64 the 1,500-image epoch makes
    /// only 23 steps; in two otherwise identical 20-epoch runs, mAP50-95 on shapes val rose from 0.574 to 0.747
    /// at about the same wall time (about 5 minutes here).
    /// </remarks>
    public static readonly KeyValuePair<string, string>[] QuickStart =
    {
        new("data", "shapes"), new("model", "yolov8n"), new("epochs", "20"), new("imgsz", "160"), new("batch", "16"), new("nbs", "16"),
    };

    /// <summary>What a bare <c>strix segment train</c> runs: yolov8n-seg on the built-in shapes-seg.</summary>
    /// <remarks>
    /// AdamW at lr0 0.002 with one warm-up epoch: at 12 epochs Ultralytics' automatic choice (AdamW lr0 0.001, three
    /// warm-up epochs) reached mask mAP50-95 0.559, this one 0.751; 10 epochs reach 0.743 in less time than the
    /// detection quick start (bench/results/quickstart-shapes-seg-recipe.json).
    /// </remarks>
    public static readonly KeyValuePair<string, string>[] SegmentQuickStart =
    {
        new("task", "segment"), new("data", "shapes-seg"), new("model", "yolov8n-seg"), new("epochs", "10"), new("imgsz", "160"),
        new("batch", "16"), new("nbs", "16"), new("optimizer", "AdamW"), new("lr0", "0.002"), new("warmup_epochs", "1"), new("close_mosaic", "5"),
    };

    /// <summary>What a bare <c>strix classify train</c> runs: yolov8n-cls on the built-in shapes-cls crops at 64 pixels.</summary>
    /// <remarks>
    /// AdamW at lr0 0.002 with one warm-up epoch, as the segmentation quick start: 40 epochs at 64 pixels reached top-1 0.925 in
    /// 2.8 minutes here; 30 epochs at 96 pixels 0.929 in 4.1 (bench/results/quickstart-shapes-cls.json).
    /// </remarks>
    public static readonly KeyValuePair<string, string>[] ClassifyQuickStart =
    {
        new("task", "classify"), new("data", "shapes-cls"), new("model", "yolov8n-cls"), new("epochs", "40"), new("imgsz", "64"),
        new("batch", "32"), new("nbs", "32"), new("optimizer", "AdamW"), new("lr0", "0.002"), new("warmup_epochs", "1"),
    };

    /// <summary>What a bare <c>strix pose train</c> runs: yolov8n-pose on the built-in shapes-pose (five keypoints per shape).</summary>
    /// <remarks>The segmentation quick start's schedule (AdamW lr0 0.002, one warm-up epoch, mosaic off for the last 5 of 10 epochs).</remarks>
    public static readonly KeyValuePair<string, string>[] PoseQuickStart =
    {
        new("task", "pose"), new("data", "shapes-pose"), new("model", "yolov8n-pose"), new("epochs", "10"), new("imgsz", "160"),
        new("batch", "16"), new("nbs", "16"), new("optimizer", "AdamW"), new("lr0", "0.002"), new("warmup_epochs", "1"), new("close_mosaic", "5"),
    };

    /// <summary>What a bare <c>strix obb train</c> runs: yolov8n-obb on the built-in shapes-obb (each shape's smallest rotated rectangle).</summary>
    /// <remarks>
    /// The segmentation quick start's schedule (AdamW lr0 0.002, one warm-up epoch, mosaic off for the last 5 epochs), over
    /// 20 epochs: angles are learnt later than boxes (mAP50-95 0.28 at 10 epochs, 0.43 at 20; bench/results/quickstart-shapes-obb.json).
    /// </remarks>
    public static readonly KeyValuePair<string, string>[] ObbQuickStart =
    {
        new("task", "obb"), new("data", "shapes-obb"), new("model", "yolov8n-obb"), new("epochs", "20"), new("imgsz", "160"),
        new("batch", "16"), new("nbs", "16"), new("optimizer", "AdamW"), new("lr0", "0.002"), new("warmup_epochs", "1"), new("close_mosaic", "5"),
    };

    public string Name => "train";
    public string Summary => "train a model (data=shapes model=yolov8n epochs=100 imgsz=640 …; task=segment|classify|pose|obb; resume model=…/last.safetensors)";

    /// <summary>The quick start a bare command line stands for: none for detection, <c>task=segment</c> or <c>task=classify</c> alone.</summary>
    static KeyValuePair<string, string>[]? QuickStartFor(IReadOnlyList<string> args) =>
        args.Count == 0 ? QuickStart
        : args.Count != 1 ? null
        : args[0].ToLowerInvariant() switch { "task=segment" => SegmentQuickStart, "task=classify" => ClassifyQuickStart, "task=pose" => PoseQuickStart, "task=obb" => ObbQuickStart, _ => null };

    public int Run(IReadOnlyList<string> args)
    {
        TrainConfig targs;
        var quick = QuickStartFor(args);
        if (quick is not null)
        {
            Console.WriteLine($"strix train: no arguments, running the quick start: {string.Join(" ", quick.Select(kv => $"{kv.Key}={kv.Value}"))}");
            targs = ConfigRecords.Parse<TrainConfig>(quick);
        }
        else targs = ConfigRecords.Parse<TrainConfig>(args);
        return DistributedLaunch.Run(strategy =>
        {
            var result = YoloTraining.Run(targs, strategy: strategy);
            return result.Fit.Interrupted ? 130 : 0;
        });
    }
}
