using Strix.Inference;
using Strix.Tasks.Detect;

namespace Strix.Tests.Inference;

/// <summary>A detection <see cref="Predictor"/> over any backend, as <c>Yolo.Predictor</c> builds it.</summary>
internal static class TestPredictors
{
    public static Predictor NewPredictor(IDetectionBackend backend, PredictOptions options) =>
        new(backend, new DetectionPostprocessor(options), options);
}
