using static TorchSharp.torch;

namespace Strix.Inference;

/// <summary>
/// Something that turns a batch of images into raw YOLO detections: TorchSharp
/// (<see cref="TorchBackend"/>) or ONNX Runtime. The predictor and validator only see this.
/// </summary>
public interface IDetectionBackend : IDisposable
{
    /// <summary>Class names by id.</summary>
    IReadOnlyList<string> Names { get; }
    /// <summary>Input size the model was trained/exported at (square).</summary>
    int ImageSize { get; }
    /// <summary>Largest stride; input sides must be multiples of it.</summary>
    int Stride { get; }
    /// <summary>True if any input size (multiple of <see cref="Stride"/>) is accepted; false for fixed-shape exports.</summary>
    bool DynamicShape { get; }
    /// <summary>Device inputs should be placed on.</summary>
    Device Device { get; }
    /// <summary>float32 [B,3,H,W] RGB in 0–1 → [B, 4+nc, anchors] (pixel xywh, class scores).</summary>
    Tensor Forward(Tensor images);
}
