using Strix.Eval;

namespace Strix.Tests.Eval;

public class DetectionMetricsTests
{
    static readonly string[] Names = { "cat", "dog", "bird" };
    static float[] Pred(params (float x1, float y1, float x2, float y2, float conf, int cls)[] p) =>
        p.SelectMany(r => new[] { r.x1, r.y1, r.x2, r.y2, r.conf, r.cls }).ToArray();
    static float[] Box(int i) => new float[] { 100 * i, 0, 100 * i + 50, 50 }; // disjoint boxes
    static (float, float, float, float, float, int) On(int i, float conf, int cls) => (100 * i, 0, 100 * i + 50, 50, conf, cls);
    static (float, float, float, float, float, int) Miss(int i, float conf, int cls) => (100 * i + 60, 60, 100 * i + 90, 90, conf, cls);

    // Ultralytics' trapezoid over the 101-point envelope ends at (recall 1, precision 0): a perfect
    // curve integrates to 1 − 0.01·(1 − 0)/2 = 0.995, the familiar ceiling of Ultralytics' mAP.
    const double PerfectAp = 0.995;

    [Fact]
    public void PerfectPredictionsScoreTheMaximum()
    {
        var m = new DetectionMetrics(Names);
        m.Update(Pred(On(0, 0.9f, 0), On(1, 0.8f, 1)), Box(0).Concat(Box(1)).ToArray(), new[] { 0, 1 });
        m.Update(Pred(On(0, 0.7f, 1), On(1, 0.6f, 2), On(2, 0.5f, 0)), Box(0).Concat(Box(1)).Concat(Box(2)).ToArray(), new[] { 1, 2, 0 });
        var r = m.Compute();
        Assert.Equal(PerfectAp, r.Map50, 9);
        Assert.Equal(PerfectAp, r.Map75, 9);
        Assert.Equal(PerfectAp, r.Map, 9);
        Assert.Equal(1.0, r.MeanPrecision, 9);
        Assert.Equal(1.0, r.MeanRecall, 9);
        Assert.Equal(0.1 * PerfectAp + 0.9 * PerfectAp, r.Fitness, 9);
        Assert.Equal(new[] { 0, 1, 2 }, r.ClassIndex);
        Assert.Equal(2, r.Images);
        Assert.Equal(5, r.Instances);
        Assert.Equal(new[] { 2, 2, 1 }, r.InstancesPerClass);
        Assert.Equal(new[] { 2, 2, 1 }, r.ImagesPerClass);
    }

    [Fact]
    public void KnownPrCurveHasKnownInterpolatedArea()
    {
        // One class, 4 ground truths (one per image), 5 predictions in confidence order TP FP TP FP TP
        // (exact boxes or far misses, so every IoU threshold agrees):
        //   recall    .25  .25  .50  .50  .75
        //   precision 1    .50  .667 .50  .60
        // Padded: recall [0 .25 .25 .5 .5 .75 1], precision [1 1 .5 .667 .5 .6 0];
        // envelope (max from the right):                     [1 1 .667 .667 .6 .6 0].
        // Sampled at r = 0, .01, …, 1 (numpy.interp; at a repeated recall the last value holds):
        //   r < .25 → 1; .25 ≤ r < .5 → 2/3; .5 ≤ r ≤ .75 → .6; .75 < r ≤ 1 → linear .6 → 0.
        // Trapezoids: 24·.01·1 + .01·(1 + 2/3)/2 + 24·.01·(2/3) + .01·(2/3 + .6)/2 + 25·.01·.6 + .25·.6/2
        //           = .24 + 1/120 + .16 + 19/3000 + .15 + .075 = 0.639666…
        const double expected = 0.24 + 1.0 / 120 + 0.16 + 19.0 / 3000 + 0.15 + 0.075;
        var m = new DetectionMetrics(Names);
        m.Update(Pred(On(0, 0.9f, 0)), Box(0), new[] { 0 });
        m.Update(Pred(Miss(0, 0.8f, 0), On(0, 0.7f, 0)), Box(0), new[] { 0 });
        m.Update(Pred(Miss(0, 0.6f, 0), On(0, 0.5f, 0)), Box(0), new[] { 0 });
        m.Update(Array.Empty<float>(), Box(0), new[] { 0 });
        var r = m.Compute();
        Assert.Equal(expected, r.Map50, 12);
        Assert.Equal(expected, r.Map, 12);
        Assert.Equal(new[] { 0 }, r.ClassIndex);
        Assert.Equal(4, r.Images);
    }

    [Fact]
    public void ComputeApOnTheSameCurveDirectly()
    {
        double ap = AveragePrecision.ComputeAp(new[] { .25, .25, .5, .5, .75 }, new[] { 1, .5, 2.0 / 3, .5, .6 });
        Assert.Equal(0.24 + 1.0 / 120 + 0.16 + 19.0 / 3000 + 0.15 + 0.075, ap, 12);
        Assert.Equal(PerfectAp, AveragePrecision.ComputeAp(new[] { 1.0 }, new[] { 1.0 }), 12);
    }

    [Fact]
    public void DuplicatesBecomeFalsePositives()
    {
        // gt: one cat. Predictions: the cat, then two lower-confidence duplicates on it.
        var m = new DetectionMetrics(Names);
        m.Update(Pred(On(0, 0.9f, 0), On(0, 0.8f, 0), On(0, 0.7f, 0)), Box(0), new[] { 0 });
        // Precision after each prediction: 1, 1/2, 1/3; recall stays 1.
        var r = m.Compute();
        Assert.Equal(PerfectAp, r.Map50, 9); // the envelope ignores trailing false positives
        var c = r.Curves;
        int i85 = Array.FindIndex(c.X, x => x > 0.85);
        double x85 = c.X[i85], c0 = 0.9f, c1 = 0.8f;   // precision is linear in confidence between .9 (1) and .8 (1/2)
        Assert.Equal(1 + (0.5 - 1) * (c0 - x85) / (c0 - c1), c.PrecisionCurve[0][i85], 9);
        Assert.Equal(1.0, c.PrecisionCurve[0][Array.FindIndex(c.X, x => x > 0.9)], 12);  // above every confidence
        Assert.Equal(1.0 / 3, c.PrecisionCurve[0][Index(0.6)], 12);                        // below every confidence
        Assert.Equal(1.0, c.RecallCurve[0][Index(0.6)], 12);
        Assert.Equal(0.0, c.RecallCurve[0][Array.FindIndex(c.X, x => x > 0.9)], 12);

        // With the duplicates more confident than a second, genuine detection, AP drops:
        // gts: 2 cats; order TP(.9) FP(.8) FP(.7) TP(.6): recall .5 .5 .5 1, precision 1 .5 1/3 .5.
        // Envelope over padded [1 1 .5 .333 .5 0] → [1 1 .5 .5 .5 0]; samples: r < .5 → 1, .5 ≤ r < 1 → .5, r = 1 → 0.
        // Area = 49·.01·1 + .01·(1 + .5)/2 + 49·.01·.5 + .01·(.5 + 0)/2 = .49 + .0075 + .245 + .0025 = .745.
        var m2 = new DetectionMetrics(Names);
        m2.Update(Pred(On(0, 0.9f, 0), On(0, 0.8f, 0), On(0, 0.7f, 0), On(1, 0.6f, 0)), Box(0).Concat(Box(1)).ToArray(), new[] { 0, 0 });
        Assert.Equal(0.745, m2.Compute().Map50, 12);
    }

    [Fact]
    public void WrongClassNeverMatches()
    {
        var m = new DetectionMetrics(Names);
        m.Update(Pred(On(0, 0.9f, 1), On(1, 0.9f, 2)), Box(0).Concat(Box(1)).ToArray(), new[] { 0, 1 });
        var r = m.Compute();
        Assert.Equal(0, r.Map50);
        Assert.Equal(0, r.Map);
        Assert.Equal(0, r.MeanRecall);
        Assert.Equal(new[] { 0, 1 }, r.ClassIndex); // "bird" has predictions but no ground truth: no row
    }

    [Fact]
    public void NoPredictionsScoreZero()
    {
        var m = new DetectionMetrics(Names);
        m.Update(Array.Empty<float>(), Box(0), new[] { 2 });
        m.Update(Array.Empty<float>(), Array.Empty<float>(), Array.Empty<int>());
        var r = m.Compute();
        Assert.Equal(0, r.Map50); Assert.Equal(0, r.Map); Assert.Equal(0, r.MeanPrecision); Assert.Equal(0, r.MeanRecall);
        Assert.Equal(2, r.Images);
        Assert.Equal(1, r.Instances);
    }

    [Fact]
    public void NothingAtAllScoresZero()
    {
        var r = new DetectionMetrics(Names).Compute();
        Assert.Equal(0, r.Map);
        Assert.Equal(0, r.Fitness);
        Assert.Empty(r.ClassIndex);
        Assert.Equal(new[] { 0.0, 0, 0 }, r.Maps);
    }

    [Fact]
    public void ImagesWithoutGroundTruthOnlyAddFalsePositives()
    {
        var baseline = new DetectionMetrics(Names);
        baseline.Update(Pred(On(0, 0.8f, 0)), Box(0), new[] { 0 });
        Assert.Equal(PerfectAp, baseline.Compute().Map50, 9);

        // A background image with a less confident prediction: the envelope is unchanged.
        var low = new DetectionMetrics(Names);
        low.Update(Pred(On(0, 0.8f, 0)), Box(0), new[] { 0 });
        low.Update(Pred(On(0, 0.3f, 0)), Array.Empty<float>(), Array.Empty<int>());
        var rl = low.Compute();
        Assert.Equal(PerfectAp, rl.Map50, 9);
        Assert.Equal(1, rl.Instances);
        Assert.Equal(2, rl.Images);

        // ... with a more confident one: order FP(.9) TP(.8), recall 0 1, precision 0 .5;
        // padded [0 0 1 1] / [1 0 .5 0] → envelope [1 .5 .5 0]; at r = 0 the last of the repeated
        // recall 0 gives .5, so samples are .5 for r < 1 and 0 at r = 1: area = .99·.5 + .01·.25 = .4975.
        var high = new DetectionMetrics(Names);
        high.Update(Pred(On(0, 0.8f, 0)), Box(0), new[] { 0 });
        high.Update(Pred(On(0, 0.9f, 0)), Array.Empty<float>(), Array.Empty<int>());
        var rh = high.Compute();
        Assert.Equal(0.4975, rh.Map50, 12);
        Assert.Equal(1, rh.Instances);
        Assert.Equal(1, rh.ImagesPerClass[0]);
    }

    [Fact]
    public void ApIsUnchangedByShufflingPredictionsAndImages()
    {
        var rng = new Random(7);
        var images = Enumerable.Range(0, 60).Select(_ => RandomImage(rng)).ToList();
        var reference = Evaluate(images).Compute();
        Assert.InRange(reference.Map50, 0.05, 0.995); // a non-trivial case

        for (int trial = 0; trial < 3; trial++)
        {
            var shuffled = images.OrderBy(_ => rng.Next()).Select(img =>
            {
                var rows = Enumerable.Range(0, img.Pred.Length / 6).OrderBy(_ => rng.Next()).ToArray();
                var pred = rows.SelectMany(i => img.Pred.Skip(i * 6).Take(6)).ToArray();
                var gts = Enumerable.Range(0, img.Cls.Length).OrderBy(_ => rng.Next()).ToArray();
                return (pred, gts.SelectMany(i => img.Gt.Skip(i * 4).Take(4)).ToArray(), gts.Select(i => img.Cls[i]).ToArray());
            }).ToList();
            var r = Evaluate(shuffled).Compute();
            Assert.Equal(reference.Map50, r.Map50, 12);
            Assert.Equal(reference.Map, r.Map, 12);
            Assert.Equal(reference.MeanPrecision, r.MeanPrecision, 12);
            Assert.Equal(reference.MeanRecall, r.MeanRecall, 12);
            Assert.Equal(reference.Ap5095, r.Ap5095);
        }
    }

    [Fact]
    public void RejectsClassesOutsideTheNames()
    {
        var m = new DetectionMetrics(Names);
        Assert.Throws<ArgumentException>(() => m.Update(Pred(On(0, 0.5f, 3)), Box(0), new[] { 0 }));
        Assert.Throws<ArgumentException>(() => m.Update(Array.Empty<float>(), Box(0), new[] { 7 }));
    }

    [Fact]
    public void TableHasUltralyticsLayout()
    {
        var m = new DetectionMetrics(Names);
        m.Update(Pred(On(0, 0.9f, 0), On(1, 0.8f, 1)), Box(0).Concat(Box(1)).ToArray(), new[] { 0, 1 });
        var lines = MetricsTable.Format(m.Compute()).TrimEnd('\n').Split('\n');
        Assert.Equal(4, lines.Length);
        Assert.Equal(new[] { "Class", "Images", "Instances", "P", "R", "mAP50", "mAP50-95" }, lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(new[] { "all", "1", "2", "1", "1", "0.995", "0.995" }, lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith(new string(' ', 19) + "cat", lines[2]);
        Assert.Equal(22 + 6 * 11, lines[1].Length);
        Assert.Equal("1.23e-05", MetricsTable.G3(0.0000123));
        Assert.Equal("0.0123", MetricsTable.G3(0.012345));
        Assert.Equal("0", MetricsTable.G3(0));
    }

    static int Index(double conf) => (int)Math.Round(conf * (AveragePrecision.CurvePoints - 1));

    internal static (float[] Pred, float[] Gt, int[] Cls) RandomImage(Random rng, int maxGt = 6, int maxPred = 12, int nc = 3)
    {
        int m = rng.Next(0, maxGt + 1), n = rng.Next(0, maxPred + 1);
        var gt = new float[m * 4]; var cls = new int[m];
        for (int j = 0; j < m; j++)
        {
            float x = rng.NextSingle() * 400, y = rng.NextSingle() * 400, w = 20 + rng.NextSingle() * 100, h = 20 + rng.NextSingle() * 100;
            gt[j * 4] = x; gt[j * 4 + 1] = y; gt[j * 4 + 2] = x + w; gt[j * 4 + 3] = y + h;
            cls[j] = rng.Next(nc);
        }
        var pred = new float[n * 6];
        for (int i = 0; i < n; i++)
        {
            if (m > 0 && rng.NextDouble() < 0.7)
            {
                int j = rng.Next(m);
                for (int q = 0; q < 4; q++) pred[i * 6 + q] = gt[j * 4 + q] + (rng.NextSingle() - 0.5f) * 20;
                pred[i * 6 + 5] = rng.NextDouble() < 0.85 ? cls[j] : rng.Next(nc);
            }
            else
            {
                float x = rng.NextSingle() * 400, y = rng.NextSingle() * 400;
                pred[i * 6] = x; pred[i * 6 + 1] = y; pred[i * 6 + 2] = x + 30; pred[i * 6 + 3] = y + 30;
                pred[i * 6 + 5] = rng.Next(nc);
            }
            pred[i * 6 + 4] = rng.NextSingle();
        }
        return (pred, gt, cls);
    }

    static DetectionMetrics Evaluate(IEnumerable<(float[] Pred, float[] Gt, int[] Cls)> images)
    {
        var m = new DetectionMetrics(Names);
        foreach (var (p, g, c) in images) m.Update(p, g, c);
        return m;
    }
}
