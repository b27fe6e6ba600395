using Strix.Data;
using Strix.Eval;
using Strix.Plotting;

namespace Strix.Tests.Eval;

public class PlotsTests : IDisposable
{
    readonly Scratch _tmp = new();
    public void Dispose() => _tmp.Dispose();

    /// <summary>Set STRIX_PLOT_DIR to keep the images for a look.</summary>
    string OutDir(string name)
    {
        var keep = Environment.GetEnvironmentVariable("STRIX_PLOT_DIR");
        if (string.IsNullOrEmpty(keep)) return _tmp.NewDir("strix-plots");
        var d = Path.Combine(keep, name);
        Directory.CreateDirectory(d);
        return d;
    }

    static (DetectionResults, ConfusionMatrix, string[]) Sample(int nc, int images, int seed)
    {
        var names = Enumerable.Range(0, nc).Select(i => nc == 3 ? new[] { "person", "bicycle", "traffic light" }[i] : $"class{i}").ToArray();
        var rng = new Random(seed);
        var m = new DetectionMetrics(names);
        var cm = new ConfusionMatrix(nc);
        for (int i = 0; i < images; i++)
        {
            var (p, g, c) = DetectionMetricsTests.RandomImage(rng, maxGt: 8, maxPred: 30, nc: nc);
            m.Update(p, g, c);
            cm.Process(p, g, c);
        }
        return (m.Compute(), cm, names);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(80)]
    public void WritesEveryPlotAsAReadablePng(int nc)
    {
        var dir = OutDir($"nc{nc}");
        var (r, cm, names) = Sample(nc, nc == 3 ? 60 : 150, nc);
        var files = CurvePlots.SaveAll(r, dir).Concat(ConfusionMatrixPlot.SaveBoth(cm, names, dir)).ToList();
        Assert.Equal(new[] { "PR_curve.png", "F1_curve.png", "P_curve.png", "R_curve.png", "confusion_matrix_normalized.png", "confusion_matrix.png" },
            files.Select(Path.GetFileName));
        foreach (var f in files)
        {
            var img = ImageIO.Load(f);
            Assert.True(img.Width >= 1200 && img.Height >= 800, $"{f} is {img.Width}×{img.Height}");
            // Not blank: some dark pixels (axes, text) and some white ones.
            int dark = 0;
            for (int i = 0; i < img.Pixels.Length; i += 3) if (img.Pixels[i] + img.Pixels[i + 1] + img.Pixels[i + 2] < 150) dark++;
            Assert.InRange(dark, 500, img.Width * img.Height / 2);
        }
        Assert.Empty(Directory.GetFiles(dir, "*.tmp"));
    }

    [Fact]
    public void PlotsWithoutAnyPredictions()
    {
        var m = new DetectionMetrics(new[] { "a", "b" });
        m.Update(Array.Empty<float>(), new float[] { 0, 0, 10, 10 }, new[] { 1 });
        var dir = OutDir("empty");
        var files = CurvePlots.SaveAll(m.Compute(), dir);
        Assert.All(files, f => Assert.True(new FileInfo(f).Length > 1000));
    }
}
