using Strix.Config;
using Strix.Data;
using Strix.Models;

namespace Strix.Tasks.Obb;

/// <summary>
/// <c>task=obb</c>: oriented boxes (<see cref="ObbModule"/>, <see cref="ObbValidator"/>); trains on Ultralytics' OBB labels
/// (<c>class x1 y1 … x4 y4</c>), by default yolov8n-obb on the built-in shapes-obb.
/// </summary>
public sealed class ObbTask : YoloTask
{
    public override string Name => "obb";
    public override string DefaultData => "shapes-obb";
    public override string DefaultModel => "yolov8n-obb";

    public override TaskModule CreateModule(DetectionModel model, IReadOnlyList<string> names, TrainConfig config, int trainImages, TextWriter log) =>
        new ObbModule(model, names, config, trainImages, log);

    public override DataLoaderOptions ConfigureLoader(DataLoaderOptions options, TrainConfig config) => options with { OrientedBoxes = true };
}
