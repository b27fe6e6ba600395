using static TorchSharp.torch;

namespace Strix.Inference;

/// <summary>One image's post-processed predictions: its detections and, for segmentation, their masks.</summary>
public sealed record ImagePredictions(IReadOnlyList<Detection> Detections, SegmentMasks? Masks = null);

/// <summary>
/// A task's post-processing for models with a second output (segmentation's prototypes,
/// <c>Strix.Tasks.Segment.SegmentationPostprocessor</c>): the <see cref="Predictor"/> hands it every output of the
/// backend, and each image's detections come back with their masks.
/// </summary>
public interface IMaskPostprocessor : IPostprocessor
{
    /// <param name="outputs">The backend's outputs for the batch (<see cref="IDetectionBackend.ForwardOutputs"/>).</param>
    /// <param name="frames">One per image of the batch, in order.</param>
    /// <param name="names">The model's class names.</param>
    IReadOnlyList<ImagePredictions> Postprocess(IReadOnlyList<Tensor> outputs, IReadOnlyList<InputFrame> frames, IReadOnlyList<string> names);
}
