using System.Text.Json;
using Strix.Eval;

namespace Strix.Tests.Eval;

/// <summary>
/// Compares against Fixtures/eval/metrics_reference.json, made by an independent numpy
/// implementation of the same definitions (make_metrics_reference.py beside it).
/// </summary>
public class MetricsReferenceTests
{
    sealed record Image(float[] pred, float[] gt, int[] cls, int[] tp);
    sealed record Expected(int[] classes, double[] ap50, double[] ap, double[] p, double[] r, int best_index,
        double mp, double mr, double map50, double map75, double map);
    sealed record Reference(int nc, Image[] images, Expected expected);

    static Reference Load() =>
        JsonSerializer.Deserialize<Reference>(File.ReadAllText(TestPaths.Fixture("eval", "metrics_reference.json")))!;

    [Fact]
    public void MatchingAgreesWithNumpyReference()
    {
        var reference = Load();
        foreach (var img in reference.images)
        {
            var tp = DetectionMatcher.Match(img.pred, img.gt, img.cls);
            Assert.Equal(img.tp.Select(v => v != 0).ToArray(), tp);
        }
    }

    [Fact]
    public void MetricsAgreeWithNumpyReference()
    {
        var reference = Load();
        var names = Enumerable.Range(0, reference.nc).Select(i => $"c{i}").ToArray();
        var rng = new Random(1);
        var m = new DetectionMetrics(names);
        foreach (var img in reference.images)
        {
            // Row order must not matter: feed each image's predictions shuffled.
            int n = img.pred.Length / 6;
            var pred = Enumerable.Range(0, n).OrderBy(_ => rng.Next()).SelectMany(i => img.pred.Skip(i * 6).Take(6)).ToArray();
            m.Update(pred, img.gt, img.cls);
        }
        var r = m.Compute();
        var e = reference.expected;
        Assert.Equal(e.classes, r.ClassIndex);
        Assert.Equal(e.best_index, r.Curves.BestIndex);
        Assert.Equal(e.map50, r.Map50, 12);
        Assert.Equal(e.map75, r.Map75, 12);
        Assert.Equal(e.map, r.Map, 12);
        Assert.Equal(e.mp, r.MeanPrecision, 12);
        Assert.Equal(e.mr, r.MeanRecall, 12);
        for (int i = 0; i < e.classes.Length; i++)
        {
            Assert.Equal(e.ap50[i], r.Ap50[i], 12);
            Assert.Equal(e.ap[i], r.Ap5095[i], 12);
            Assert.Equal(e.p[i], r.Precision[i], 12);
            Assert.Equal(e.r[i], r.Recall[i], 12);
        }
    }
}
