using Strix.Inference;
using Strix.Models;
using Strix.Nn;
using static TorchSharp.torch;

namespace Strix.Tests.Models;

public class SegmentationModelTests
{
    [Theory]
    [InlineData("yolov8n-seg", 3_409_968L)]
    [InlineData("yolov8s-seg", 11_821_056L)]
    [InlineData("yolov8m-seg", 27_285_968L)]
    [InlineData("yolov8l-seg", 45_997_728L)]
    [InlineData("yolov8x-seg", 71_827_888L)]
    [InlineData("yolo11n-seg", 2_876_848L)]
    public void ParameterCountsEqualUltralytics(string name, long expected)
    {
        using var m = DetectionModel.Create(name, 80);
        Assert.Equal("segment", m.Task);
        Assert.Equal(expected, m.ParameterCount());
    }

    [Fact]
    public void GFlopsAt640MatchUltralytics()
    {
        using var m = DetectionModel.Create("yolov8n-seg", 80);
        double g = ModelProfiler.GFlops(m, 64, 64) * 100; // exact: every count scales with the area
        Assert.InRange(g, 12.75, 12.85);
    }

    [Fact]
    public void HeadGivesCoefficientsPerAnchorAndPrototypesAtStrideFour()
    {
        using var m = DetectionModel.Create("yolov8n-seg", 5);
        m.eval();
        var head = (Segment)m.Head;
        Assert.Equal(32, head.NumMasks);
        Assert.Equal(64, head.PrototypeChannels); // 256 scaled by the n width 0.25
        using var x = rand(2, 3, 96, 128);
        var raw = m.forward(x);
        Assert.Equal(4, raw.Length);
        Assert.Equal(new long[] { 2, 64 + 5 + 32, 12, 16 }, raw[0].shape);
        Assert.Equal(new long[] { 2, 64 + 5 + 32, 3, 4 }, raw[2].shape);
        Assert.Equal(new long[] { 2, 32, 24, 32 }, raw[3].shape);
        foreach (var r in raw) r.Dispose();

        var (p, protos) = m.PredictMasks(x);
        using (p) using (protos)
        {
            int anchors = 12 * 16 + 6 * 8 + 3 * 4;
            Assert.Equal(new long[] { 2, 4 + 5 + 32, anchors }, p.shape);
            Assert.Equal(new long[] { 2, 32, 24, 32 }, protos.shape);
            using var scores = p[.., 4..9];
            Assert.True(scores.min().item<float>() >= 0 && scores.max().item<float>() <= 1);
            // The coefficients are the cv4 outputs as they are, not squashed: some fall outside [0, 1].
            using var coef = p[.., 9..];
            using var outside = coef.lt(0).logical_or(coef.gt(1)).any();
            Assert.True(outside.item<bool>());
        }
    }

    [Fact]
    public void DecodedBoxesAndScoresEqualTheDetectionDecodeOfTheSameMaps()
    {
        using var m = DetectionModel.Create("yolov8n-seg", 3);
        m.eval();
        using var x = rand(1, 3, 64, 64);
        var raw = m.forward(x);
        var head = (Segment)m.Head;
        var det = raw.Take(3).Select(r => r[.., ..head.NumOutputs]).ToArray();
        using var expected = head.Decode(det);
        var (p, protos) = head.DecodeMasks(raw);
        using (p) using (protos)
        {
            using var boxesAndScores = p[.., ..(4 + 3)];
            Assert.True(boxesAndScores.allclose(expected));
            using var expectedCoef = cat(raw.Take(3).Select(r => r[.., head.NumOutputs..].flatten(2)).ToArray(), 2);
            using var coef = p[.., (4 + 3)..];
            Assert.True(coef.allclose(expectedCoef, rtol: 0, atol: 0));
        }
        foreach (var t in raw.Concat(det)) t.Dispose();
    }

    [Fact]
    public void ParameterNamesFollowUltralytics()
    {
        using var m = DetectionModel.Create("yolo11n-seg", 80);
        var names = m.state_dict().Keys.ToHashSet();
        foreach (var n in new[]
        {
            "model.23.proto.cv1.conv.weight", "model.23.proto.upsample.weight", "model.23.proto.upsample.bias",
            "model.23.proto.cv3.bn.running_mean", "model.23.cv4.0.0.conv.weight", "model.23.cv4.2.2.bias",
            "model.23.cv3.0.0.0.conv.weight", "model.23.dfl.conv.weight",
        })
            Assert.Contains(n, names);
    }

    [Fact]
    public void DetectionOnlyPathsRefuseASegmentationModelByName()
    {
        using var m = DetectionModel.Create("yolov8n-seg", 2);
        using var x = zeros(1, 3, 64, 64);
        var e = Assert.Throws<NotSupportedException>(() => m.Predict(x));
        Assert.Contains("yolov8n-seg is a segmentation model", e.Message);
        // The backend serves both outputs to the segment task's postprocessor.
        using var backend = new TorchBackend(m, new[] { "a", "b" }, 64);
        Assert.Equal("segment", backend.Task);
        var outputs = backend.ForwardOutputs(x);
        Assert.Equal(new long[] { 1, 4 + 2 + 32, 84 }, outputs[0].shape);
        Assert.Equal(new long[] { 1, 32, 16, 16 }, outputs[1].shape);
        foreach (var o in outputs) o.Dispose();
        using var d = DetectionModel.Create("yolov8n", 2);
        Assert.Throws<NotSupportedException>(() => d.PredictMasks(x));
    }
}
