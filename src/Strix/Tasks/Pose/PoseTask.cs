using Strix.Config;
using Strix.Data;
using Strix.Models;

namespace Strix.Tasks.Pose;

/// <summary>
/// <c>task=pose</c>: boxes and K keypoints per object (<see cref="PoseModule"/>, <see cref="PoseValidator"/>); trains on
/// pose labels (a data.yaml with <c>kpt_shape</c> and optionally <c>flip_idx</c>), by default yolov8n-pose on the
/// built-in shapes-pose. The model is rebuilt for the data's kpt_shape when it has another (its other weights kept).
/// </summary>
public sealed class PoseTask : YoloTask
{
    public override string Name => "pose";
    public override string DefaultData => "shapes-pose";
    public override string DefaultModel => "yolov8n-pose";

    public override TaskModule CreateModule(DetectionModel model, IReadOnlyList<string> names, TrainConfig config, int trainImages, TextWriter log) =>
        new PoseModule(model, names, config, trainImages, log);

    public override bool ReadsKeypoints => true;

    /// <summary>The data's keypoint shape, required: a pose dataset says how many keypoints its rows carry.</summary>
    static int[] KptShapeOf(TaskDataset dataset) =>
        (dataset as YoloTaskDataset)?.Config.KptShape
        ?? throw new InvalidDataException($"task=pose needs a pose dataset: {(dataset as YoloTaskDataset)?.Config.YamlFile ?? "the data"} has no kpt_shape (e.g. kpt_shape: [17, 3])");

    public override DetectionModel? AdaptModel(DetectionModel model, TaskDataset dataset, Action<string> log)
    {
        if (model.Task != "pose") return null; // the task check that follows names the mismatch
        var want = KptShapeOf(dataset);
        if (model.KptShape is { } have && have.SequenceEqual(want)) return null;
        log($"Overriding the model's kpt_shape [{string.Join(", ", model.KptShape ?? Array.Empty<int>())}] with the data's [{string.Join(", ", want)}]");
        var rebuilt = new DetectionModel(model.Spec.WithKptShape(want), model.Scale, model.NumClasses);
        var result = StateDictTransfer.Matching(rebuilt, model.state_dict().Select(kv => kv));
        log($"Transferred {result.Loaded.Count}/{rebuilt.state_dict().Count} items to the rebuilt model");
        return rebuilt;
    }
}
