using Strix.Config;
using Strix.Models;

namespace Strix.Tasks.Detect;

/// <summary><c>task=detect</c>: boxes and classes (<see cref="DetectionModule"/>, <see cref="DetectionValidator"/>).</summary>
public sealed class DetectTask : YoloTask
{
    public override string Name => "detect";

    public override TaskModule CreateModule(DetectionModel model, IReadOnlyList<string> names, TrainConfig config, int trainImages, TextWriter log) =>
        new DetectionModule(model, names, config, trainImages, log);
}
