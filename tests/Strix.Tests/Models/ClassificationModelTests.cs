using Strix.Models;
using Strix.Nn;
using static TorchSharp.torch;

namespace Strix.Tests.Models;

public class ClassificationModelTests
{
    [Theory]
    // yolov8-cls at its file's nc=1000, yolo11-cls at its file's nc=80 (Ultralytics' YAML defaults, where its printed
    // summaries come from). The l and x rows of YOLO11 are our builder's counts: they agree with Ultralytics' published
    // 12.9 M and 28.4 M, not with 13,463,440 / 29,641,264, which no nc reproduces (a different release's figures, we assume).
    [InlineData("yolov8n-cls", 1000, 2_719_288L)]
    [InlineData("yolov8s-cls", 1000, 6_361_736L)]
    [InlineData("yolov8m-cls", 1000, 17_053_336L)]
    [InlineData("yolov8l-cls", 1000, 37_480_744L)]
    [InlineData("yolov8x-cls", 1000, 57_422_840L)]
    [InlineData("yolo11n-cls", 80, 1_633_584L)]
    [InlineData("yolo11s-cls", 80, 5_545_488L)]
    [InlineData("yolo11m-cls", 80, 10_455_696L)]
    [InlineData("yolo11l-cls", 80, 12_937_104L)]
    [InlineData("yolo11x-cls", 80, 28_458_544L)]
    [InlineData("yolo11n-cls", 1000, 1_633_584L + 920 * 1281)] // the linear layer's 1280·nc + nc
    public void ParameterCountsEqualUltralytics(string name, int nc, long expected)
    {
        using var m = DetectionModel.Create(name, nc);
        Assert.Equal("classify", m.Task);
        Assert.Equal(name, m.Name);
        Assert.Equal(expected, m.ParameterCount());
    }

    [Fact]
    public void ForwardGivesLogitsAndPredictGivesProbabilitiesAtAnySize()
    {
        manual_seed(1);
        using var m = DetectionModel.Create("yolov8n-cls", 4);
        m.eval();
        Assert.Equal(32, m.MaxStride);
        Assert.NotNull(m.ClassifyHead);
        Assert.Equal(Classify.Hidden, m.ClassifyHead!.linear.weight!.shape[1]);
        using var x = rand(3, 3, 48, 80); // not square, not a multiple of 32: the head pools whatever it gets
        var raw = m.forward(x);
        Assert.Single(raw);
        Assert.Equal(new long[] { 3, 4 }, raw[0].shape);
        using var p = m.PredictClasses(x);
        Assert.Equal(new long[] { 3, 4 }, p.shape);
        using var sums = p.sum(1);
        Assert.True(sums.allclose(ones(3), 1e-5, 1e-5));
        using var expected = raw[0].softmax(1);
        Assert.True(p.allclose(expected, 1e-6, 1e-6));
        raw[0].Dispose();
    }

    [Fact]
    public void DetectionOnlyPathsRefuseAClassifierByName()
    {
        using var m = DetectionModel.Create("yolo11n-cls", 3);
        var e = Assert.Throws<NotSupportedException>(() => m.Head);
        Assert.Contains("classification model", e.Message);
        Assert.Throws<NotSupportedException>(() => m.RequireDetectionHead("the detection loss"));
        using var det = DetectionModel.Create("yolo11n", 3);
        Assert.Throws<NotSupportedException>(() => det.PredictClasses(zeros(1, 3, 32, 32)));
    }
}
