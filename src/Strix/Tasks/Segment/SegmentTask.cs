using Strix.Config;
using Strix.Data;
using Strix.Models;

namespace Strix.Tasks.Segment;

/// <summary>
/// <c>task=segment</c>: boxes, classes and an instance mask per object (<see cref="SegmentationModule"/>,
/// <see cref="SegmentationValidator"/>); trains on polygon labels, by default yolov8n-seg on the built-in shapes-seg.
/// </summary>
public sealed class SegmentTask : YoloTask
{
    public override string Name => "segment";
    public override string DefaultData => "shapes-seg";
    public override string DefaultModel => "yolov8n-seg";

    public override TaskModule CreateModule(DetectionModel model, IReadOnlyList<string> names, TrainConfig config, int trainImages, TextWriter log) =>
        new SegmentationModule(model, names, config, trainImages, log);

    public override DataLoaderOptions ConfigureLoader(DataLoaderOptions options, TrainConfig config) =>
        options with { Segments = true, MaskRatio = config.MaskRatio, OverlapMask = config.OverlapMask };
}
