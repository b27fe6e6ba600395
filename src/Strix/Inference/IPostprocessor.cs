using static TorchSharp.torch;

namespace Strix.Inference;

/// <summary>Where a letterboxed model input came from: input = original·ratio + pad, and the original size in pixels.</summary>
public readonly record struct InputFrame(double RatioW, double RatioH, double PadW, double PadH, int Width, int Height);

/// <summary>
/// A task's half of prediction (<c>Strix.Tasks.Detect.DetectionPostprocessor</c> for detection): turns a
/// backend's raw output for a batch into each image's results in original-image pixels. The
/// <see cref="Predictor"/> does the task-independent rest: sources, decoding, letterbox, batching, timing.
/// </summary>
public interface IPostprocessor
{
    /// <param name="raw">The backend's output for the batch.</param>
    /// <param name="frames">One per image of the batch, in order.</param>
    /// <param name="names">The model's class names.</param>
    IReadOnlyList<IReadOnlyList<Detection>> Postprocess(Tensor raw, IReadOnlyList<InputFrame> frames, IReadOnlyList<string> names);
}
