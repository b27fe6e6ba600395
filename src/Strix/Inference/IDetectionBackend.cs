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
    /// <summary>The model's task: <c>detect</c>, or <c>segment</c> when <see cref="ForwardOutputs"/> also gives the prototypes.</summary>
    string Task => "detect";
    /// <summary>A pose model's [keypoints, values per keypoint]; null for the other tasks.</summary>
    int[]? KptShape => null;
    /// <summary>
    /// Every output for a float batch: detection's one, or segmentation's two — [B, 4+nc+nm, anchors] (pixel xywh, class
    /// scores, mask coefficients) and the prototypes [B, nm, H/4, W/4].
    /// </summary>
    Tensor[] ForwardOutputs(Tensor images) => new[] { Forward(images) };
}
