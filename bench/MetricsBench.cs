using System.Diagnostics;
using System.Text.Json;
using Strix.Eval;

namespace Strix.Bench;

/// <summary>
/// The metric core at COCO-val scale: 5,000 images × 300 detections (max_det) × 10 IoU thresholds,
/// ~7 ground-truth boxes per image, 80 classes. Times matching (every image through
/// <see cref="DetectionMetrics.Update(ReadOnlySpan{float},ReadOnlySpan{float},ReadOnlySpan{int})"/>)
/// and <see cref="DetectionMetrics.Compute"/> separately. Args: images=5000 dets=300 gts=7 nc=80 seed=0 repeats=3 coco=0 (1: also time the pycocotools-style <see cref="CocoEval"/>).
/// </summary>
public static class MetricsBench
{
    public static int Run(string[] args)
    {
        var a = BenchUtil.Options(args);
        int Arg(string k, int d) => a.TryGetValue(k, out var v) ? int.Parse(v) : d;
        int images = Arg("images", 5000), dets = Arg("dets", 300), gts = Arg("gts", 7), nc = Arg("nc", 80), repeats = Arg("repeats", 3);
        var rng = new Random(Arg("seed", 0));

        var data = new (float[] Pred, float[] Gt, int[] Cls)[images];
        for (int i = 0; i < images; i++) data[i] = MakeImage(rng, dets, rng.Next(0, 2 * gts + 1), nc);
        var names = Enumerable.Range(0, nc).Select(c => $"class{c}").ToArray();

        double bestMatch = double.MaxValue, bestCompute = double.MaxValue, bestTotal = double.MaxValue;
        DetectionResults? r = null;
        for (int rep = 0; rep < repeats; rep++)
        {
            var m = new DetectionMetrics(names);
            var sw = Stopwatch.StartNew();
            foreach (var (p, g, c) in data) m.Update(p, g, c);
            double match = sw.Elapsed.TotalSeconds;
            r = m.Compute();
            double total = sw.Elapsed.TotalSeconds;
            bestMatch = Math.Min(bestMatch, match);
            bestCompute = Math.Min(bestCompute, total - match);
            bestTotal = Math.Min(bestTotal, total);
        }
        // Optionally the pycocotools-definition evaluation of the same detections (coco=1).
        double? cocoSeconds = null, cocoMap = null;
        if (Arg("coco", 0) != 0)
        {
            var anns = new List<CocoAnnotation>();
            var results = new List<CocoDetection>();
            for (int i = 0; i < images; i++)
            {
                var (p, g, c) = data[i];
                string id = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
                for (int j = 0; j < c.Length; j++)
                {
                    double w = g[j * 4 + 2] - g[j * 4], h = g[j * 4 + 3] - g[j * 4 + 1];
                    anns.Add(new CocoAnnotation(anns.Count + 1, id, c[j] + 1, g[j * 4], g[j * 4 + 1], w, h, w * h, false));
                }
                for (int k = 0; k < p.Length / 6; k++)
                    results.Add(new CocoDetection(id, (int)p[k * 6 + 5] + 1, p[k * 6], p[k * 6 + 1], p[k * 6 + 2] - p[k * 6], p[k * 6 + 3] - p[k * 6 + 1], p[k * 6 + 4]));
            }
            var gt = new CocoGroundTruth(Enumerable.Range(0, images).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList(),
                Enumerable.Range(1, nc).ToList(), anns);
            var sw = Stopwatch.StartNew();
            var coco = CocoEval.Evaluate(gt, results);
            cocoSeconds = Math.Round(sw.Elapsed.TotalSeconds, 3);
            cocoMap = Math.Round(coco.Map, 4);
        }

        Console.WriteLine(JsonSerializer.Serialize(new
        {
            bench = "metrics",
            images, detections_per_image = dets, predictions = images * dets, thresholds = DetectionMatcher.IouThresholds.Count,
            instances = r!.Instances, classes = nc, repeats,
            match_s = Math.Round(bestMatch, 3), compute_s = Math.Round(bestCompute, 3), total_s = Math.Round(bestTotal, 3),
            target_s = 2.0, within_target = bestTotal <= 2.0,
            map50 = Math.Round(r.Map50, 4), map50_95 = Math.Round(r.Map, 4),
            coco_eval_s = cocoSeconds, coco_map50_95 = cocoMap,
            processors = Environment.ProcessorCount,
        }));
        return 0;
    }

    /// <summary>Ground truth plus detections: jittered copies of the boxes (some with the wrong class) and background boxes.</summary>
    static (float[], float[], int[]) MakeImage(Random rng, int dets, int m, int nc)
    {
        var gt = new float[m * 4];
        var cls = new int[m];
        for (int j = 0; j < m; j++)
        {
            float x = rng.NextSingle() * 560, y = rng.NextSingle() * 560, w = 8 + rng.NextSingle() * 200, h = 8 + rng.NextSingle() * 200;
            gt[j * 4] = x; gt[j * 4 + 1] = y; gt[j * 4 + 2] = x + w; gt[j * 4 + 3] = y + h;
            cls[j] = rng.Next(nc);
        }
        var pred = new float[dets * 6];
        for (int i = 0; i < dets; i++)
        {
            var p = pred.AsSpan(i * 6, 6);
            if (m > 0 && rng.NextDouble() < 0.3)
            {
                int j = rng.Next(m);
                float w = gt[j * 4 + 2] - gt[j * 4], h = gt[j * 4 + 3] - gt[j * 4 + 1];
                for (int q = 0; q < 4; q++) p[q] = gt[j * 4 + q] + (rng.NextSingle() - 0.5f) * 0.3f * (q % 2 == 0 ? w : h);
                p[5] = rng.NextDouble() < 0.8 ? cls[j] : rng.Next(nc);
                p[4] = 0.3f + 0.7f * rng.NextSingle();
            }
            else
            {
                float x = rng.NextSingle() * 600, y = rng.NextSingle() * 600;
                p[0] = x; p[1] = y; p[2] = x + 5 + rng.NextSingle() * 100; p[3] = y + 5 + rng.NextSingle() * 100;
                p[5] = rng.Next(nc);
                p[4] = 0.001f + 0.5f * rng.NextSingle();
            }
        }
        return (pred, gt, cls);
    }
}
