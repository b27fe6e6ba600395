using static TorchSharp.torch;

namespace Strix.Inference;

/// <summary>One image's post-processed predictions: its detections and, for segmentation, their masks, for pose their keypoints, for OBB their rotated boxes.</summary>
public sealed record ImagePredictions(IReadOnlyList<Detection> Detections, SegmentMasks? Masks = null, PoseKeypoints? Keypoints = null,
    IReadOnlyList<OrientedBox>? OrientedBoxes = null);

/// <summary>
/// A task's post-processing that reads every output of the backend and returns more than boxes: segmentation's masks
/// from its second output (the prototypes, <c>Strix.Tasks.Segment.SegmentationPostprocessor</c>), pose's keypoints from
/// the extra rows of its one output (<c>Strix.Tasks.Pose.PosePostprocessor</c>). It checks the outputs it is given.
/// </summary>
public interface IOutputsPostprocessor : IPostprocessor
{
    /// <param name="outputs">The backend's outputs for the batch (<see cref="IDetectionBackend.ForwardOutputs"/>).</param>
    /// <param name="frames">One per image of the batch, in order.</param>
    /// <param name="names">The model's class names.</param>
    IReadOnlyList<ImagePredictions> Postprocess(IReadOnlyList<Tensor> outputs, IReadOnlyList<InputFrame> frames, IReadOnlyList<string> names);
}
