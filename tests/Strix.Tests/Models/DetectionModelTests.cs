using Strix.Models;
using static TorchSharp.torch;

namespace Strix.Tests.Models;

public class DetectionModelTests
{
    [Theory]
    [InlineData("yolov8n", 3_157_200L)]
    [InlineData("yolov8s", 11_166_560L)]
    [InlineData("yolov8m", 25_902_640L)]
    [InlineData("yolov8l", 43_691_520L)]
    [InlineData("yolov8x", 68_229_648L)]
    public void ParameterCountsEqualUltralytics(string scale, long expected)
    {
        using var m = DetectionModel.Create(scale, 80);
        Assert.Equal(expected, m.ParameterCount());
    }

    [Fact]
    public void ForwardGivesThreeLevelsAndPredictGivesUltralyticsLayout()
    {
        using var m = DetectionModel.Create("yolov8n", 5);
        m.eval();
        using var x = rand(2, 3, 96, 128);
        var raw = m.forward(x);
        Assert.Equal(3, raw.Length);
        Assert.Equal(new long[] { 2, 64 + 5, 12, 16 }, raw[0].shape);
        Assert.Equal(new long[] { 2, 64 + 5, 6, 8 }, raw[1].shape);
        Assert.Equal(new long[] { 2, 64 + 5, 3, 4 }, raw[2].shape);
        foreach (var r in raw) r.Dispose();
        using var y = m.Predict(x);
        Assert.Equal(new long[] { 2, 4 + 5, 12 * 16 + 6 * 8 + 3 * 4 }, y.shape);
        using var scores = y[.., 4..];
        Assert.True(scores.min().item<float>() >= 0 && scores.max().item<float>() <= 1);
    }

    [Fact]
    public void ParameterNamesFollowUltralytics()
    {
        using var m = DetectionModel.Create("yolov8n", 80);
        var names = m.state_dict().Keys.ToHashSet();
        Assert.Contains("model.0.conv.weight", names);
        Assert.Contains("model.0.bn.running_mean", names);
        Assert.Contains("model.2.m.0.cv1.conv.weight", names);
        Assert.Contains("model.9.cv2.bn.bias", names);
        Assert.Contains("model.22.cv2.0.0.conv.weight", names);
        Assert.Contains("model.22.cv3.2.2.bias", names);
        Assert.Contains("model.22.dfl.conv.weight", names);
    }

    [Fact]
    public void FusedOutputsEqualUnfused()
    {
        manual_seed(0);
        using var m = DetectionModel.Create("yolov8n", 3);
        // Give batch norms non-trivial statistics so fusion has something to fold.
        m.train();
        using (no_grad()) for (int i = 0; i < 3; i++) { using var warm = rand(2, 3, 64, 64) * 2; foreach (var t in m.forward(warm)) t.Dispose(); }
        m.eval();
        using var x = rand(1, 3, 64, 96);
        using var before = m.Predict(x);
        m.Fuse();
        Assert.True(m.IsFused);
        Assert.DoesNotContain(m.state_dict().Keys, k => k.Contains(".bn."));
        using var after = m.Predict(x);
        var diff = (before - after).abs().max().item<float>();
        Assert.True(diff <= 1e-4, $"max abs diff {diff}");
    }
}

public class ModelProfilerTests
{
    [Theory]
    [InlineData("yolov8n", 8.9)]
    [InlineData("yolov8s", 28.8)]
    [InlineData("yolov8m", 79.3)]
    [InlineData("yolov8l", 165.7)]
    [InlineData("yolov8x", 258.5)]
    public void GFlopsAt640MatchUltralytics(string scale, double expected)
    {
        using var m = DetectionModel.Create(scale, 80);
        // Counting at 64×64 and scaling by area is exact for convolutions (outputs scale with area).
        double g = ModelProfiler.GFlops(m, 64, 64) * 100;
        Assert.InRange(g, expected - 0.1, expected + 0.1);
    }
}
