using Strix.Config;
using Strix.Data;
using Strix.Models;

namespace Strix.Tasks.Classify;

/// <summary>
/// <c>task=classify</c>: one class per image (<see cref="ClassificationModule"/>, <see cref="ClassificationValidator"/>);
/// trains on class folders (root/train/&lt;class&gt;/…), by default yolov8n-cls on the built-in shapes-cls, at
/// Ultralytics' classification size 224 unless imgsz is given.
/// </summary>
public sealed class ClassifyTask : YoloTask
{
    public override string Name => "classify";
    public override string DefaultData => "shapes-cls";
    public override string DefaultModel => "yolov8n-cls";
    public override int DefaultImgSz => 224;

    public override TaskDataset OpenDataset(string data, Action<string> log) =>
        new ClassificationTaskDataset(ClassificationDataset.ResolveRoot(data, log));

    public override TaskModule CreateModule(DetectionModel model, IReadOnlyList<string> names, TrainConfig config, int trainImages, TextWriter log) =>
        new ClassificationModule(model, names, config, trainImages, log);
}
