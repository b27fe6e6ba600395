using Strix.Models;
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

    public Tensor Forward(Tensor images)
    {
        using var _ = no_grad();
        return Model.Predict(images);
    }

    public void Dispose() { if (_ownsModel) Model.Dispose(); }
}
