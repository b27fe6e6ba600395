using Strix.Models;
using Strix.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Strix.Inference;

/// <summary>Runs a TorchSharp <see cref="DetectionModel"/> (eval mode, no grad) on a chosen device.</summary>
public sealed class TorchBackend : IDetectionBackend
{
    readonly bool _ownsModel;

    public TorchBackend(DetectionModel model, IReadOnlyList<string> names, int imageSize = 640, Device? device = null, bool ownsModel = false)
    {
        if (names.Count != model.NumClasses)
            throw new ArgumentException($"{names.Count} class names given for a model with {model.NumClasses} classes");
        Model = model; Names = names; ImageSize = imageSize; _ownsModel = ownsModel;
        Device = device ?? model.parameters().First().device;
        model.to(Device);
        model.eval();
    }

    public DetectionModel Model { get; }
    public IReadOnlyList<string> Names { get; }
    public int ImageSize { get; }
    public int Stride => Model.MaxStride;
    public bool DynamicShape => true;
    public Device Device { get; }

    /// <summary>
    /// Decoded predictions for a float batch. On the CPU the input is handed over channels-last (NHWC), which
    /// oneDNN's kernels carry through the network: measured at 640, batch 1, fused, yolo11n fp32 ran about 1.4× faster,
    /// bf16 1.2–1.35× for both families, yolov8n fp32 the same (bench/results/models-channels-last.json); outputs equal
    /// NCHW's to float rounding.
    /// </summary>
    public Tensor Forward(Tensor images)
    {
        using var _ = no_grad();
        using var input = MemoryFormat.PreferredOn(Device) ? MemoryFormat.ToChannelsLast(images) : images.alias();
        return Model.Predict(input);
    }

    public string Task => Model.Task;
    public int[]? KptShape => Model.KptShape;

    /// <summary>A segmentation model's predictions and prototypes; a detection model's predictions; a pose model's [B, 4+nc+K·D, A]; a classifier's probabilities [B, nc].</summary>
    public Tensor[] ForwardOutputs(Tensor images)
    {
        using var _ = no_grad();
        using var input = MemoryFormat.PreferredOn(Device) ? MemoryFormat.ToChannelsLast(images) : images.alias();
        switch (Model.Task)
        {
            case "segment":
                var (p, protos) = Model.PredictMasks(input);
                return new[] { p, protos };
            case "pose": return new[] { Model.PredictPose(input) };
            case "obb": return new[] { Model.PredictObb(input) };
            case "classify": return new[] { Model.PredictClasses(input) };
            default: return new[] { Model.Predict(input) };
        }
    }

    public void Dispose() { if (_ownsModel) Model.Dispose(); }
}
