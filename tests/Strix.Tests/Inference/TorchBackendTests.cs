using Strix.Inference;
using Strix.Models;
using Strix.Runtime;
using static TorchSharp.torch;

namespace Strix.Tests.Inference;

public class TorchBackendTests
{
    [Theory]
    [InlineData("yolov8n")]
    [InlineData("yolo11n")]
    public void The_cpu_backend_runs_channels_last_and_gives_the_NCHW_result(string name)
    {
        manual_seed(3);
        using var model = DetectionModel.Create(name, 4);
        model.eval();
        using var backend = new TorchBackend(model, ModelMetadata.DefaultNames(4), 64);
        using var x = rand(2, 3, 64, 96);
        Assert.False(MemoryFormat.IsChannelsLast(x));
        Tensor expected;
        using (no_grad()) expected = model.Predict(x);
        using var _ = expected;
        using var y = backend.Forward(x);
        Assert.Equal(expected.shape, y.shape);
        float diff = (expected - y).abs().max().item<float>();
        Assert.True(diff <= 1e-3f, $"channels-last forward differs by {diff} px");
        Assert.False(MemoryFormat.IsChannelsLast(x)); // the caller's tensor is not changed
    }
}
