using System.Text.Json;
using Strix.Eval;

namespace Strix.Tests.Eval;

public class CocoJsonTests : IDisposable
{
    readonly Scratch _tmp = new();
    public void Dispose() => _tmp.Dispose();

    static string Coco128Images => TestPaths.Asset("coco128", "images", "train2017");
    static string Coco128Json => TestPaths.Asset("coco128", "annotations", "instances_coco128_train2017.json");

    [SkippableFact]
    public void CategoriesAgreeWithTheCocoAnnotationFile()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Coco128Json));
        var cats = doc.RootElement.GetProperty("categories").EnumerateArray()
            .Select(c => (Id: c.GetProperty("id").GetInt32(), Name: c.GetProperty("name").GetString()!)).OrderBy(c => c.Id).ToList();
        Assert.Equal(cats.Select(c => c.Id), CocoCategories.Coco80To91);
        Assert.Equal(cats.Select(c => c.Name), CocoCategories.Names);
        Assert.True(CocoCategories.IsCoco(cats.Select(c => c.Name).ToArray()));
        Assert.False(CocoCategories.IsCoco(new[] { "scratch", "dent" }));
        Assert.Equal(new[] { 1, 2 }, CocoCategories.CategoryIdsFor(new[] { "scratch", "dent" }));
    }

    [SkippableFact]
    public void WriterUsesUltralyticsConventions()
    {
        var dir = _tmp.NewDir();
        var w = CocoPredictionsWriter.For(CocoCategories.Names);
        // class 11 (stop sign) is COCO category 13; boxes become [x, y, w, h] rounded to 3 decimals, scores to 5.
        w.Add("/data/images/000000000009.jpg", new float[] { 10.12345f, 20.5f, 110.12345f, 70.25f, 0.1234567f, 11 });
        w.Add("/data/images/frame_7.png", new float[] { 0, 0, 5, 5, 0.5f, 0 });
        var path = Path.Combine(dir, "predictions.json");
        w.Save(path);
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var a = doc.RootElement.EnumerateArray().ToList();
        Assert.Equal(2, a.Count);
        Assert.Equal(JsonValueKind.Number, a[0].GetProperty("image_id").ValueKind);
        Assert.Equal(9, a[0].GetProperty("image_id").GetInt32());
        Assert.Equal(13, a[0].GetProperty("category_id").GetInt32());
        Assert.Equal(new[] { 10.123, 20.5, 100.0, 49.75 }, a[0].GetProperty("bbox").EnumerateArray().Select(v => v.GetDouble()));
        Assert.Equal(0.12346, a[0].GetProperty("score").GetDouble());
        Assert.Equal("frame_7", a[1].GetProperty("image_id").GetString());
        Assert.Equal(1, a[1].GetProperty("category_id").GetInt32());
        Assert.Empty(Directory.GetFiles(dir, "*.tmp"));

        var back = CocoPredictionsReader.Read(path);
        Assert.Equal(new CocoDetection("9", 13, 10.123, 20.5, 100.0, 49.75, 0.12346), back[0]);
        Assert.Equal("frame_7", back[1].ImageId);
    }

    [SkippableFact]
    public void ReaderNamesTheFileAndEntryOfBadInput()
    {
        var dir = _tmp.NewDir();
        var path = Path.Combine(dir, "bad.json");
        File.WriteAllText(path, "[{\"image_id\": 1, \"category_id\": 1, \"bbox\": [1, 2, 3], \"score\": 0.5}]");
        var e = Assert.Throws<InvalidDataException>(() => CocoPredictionsReader.Read(path));
        Assert.Contains("bad.json: entry 0", e.Message);
        File.WriteAllText(path, "[{");
        Assert.Contains("bad.json", Assert.Throws<InvalidDataException>(() => CocoPredictionsReader.Read(path)).Message);
    }

    [SkippableFact]
    public void YoloGroundTruthReadsCoco128()
    {
        var gt = YoloGroundTruth.Load(Coco128Images, 80);
        Assert.Equal(128, gt.Count);
        Assert.Equal(2, gt.Count(g => g.Count == 0));        // the two background images
        Assert.Equal(929, gt.Sum(g => g.Count));
        var first = gt.First(g => Path.GetFileName(g.File) == "000000000009.jpg");
        Assert.Equal((640, 480), (first.Width, first.Height));
        Assert.All(gt, g => Assert.All(Enumerable.Range(0, g.Count), i =>
        {
            Assert.True(g.Boxes[i * 4] >= -0.01 && g.Boxes[i * 4 + 2] <= g.Width + 0.01);
            Assert.True(g.Boxes[i * 4 + 1] >= -0.01 && g.Boxes[i * 4 + 3] <= g.Height + 0.01);
        }));
    }

    [SkippableFact]
    public void LabelErrorsNameFileAndLine()
    {
        var dir = _tmp.NewDir();
        var labels = Path.Combine(dir, "x.txt");
        File.WriteAllText(labels, "0 0.5 0.5 0.2 0.2\n0 0.5 0.5 0.2 0.2\n3 0.5 1.5 0.1 0.1\n");
        var e = Assert.Throws<InvalidDataException>(() => YoloGroundTruth.ParseLabels(labels, 80));
        Assert.Contains("x.txt:3", e.Message);
        File.WriteAllText(labels, "0 0.5 0.5 0.2 0.2\n0 0.5 0.5 0.2 0.2\n0 0.1 0.1 0.3 0.1 0.3 0.3\n");
        var rows = YoloGroundTruth.ParseLabels(labels, 80);
        Assert.Equal(2, rows.Count); // duplicate dropped; polygon → its box
        Assert.Equal(new[] { 0f, 0.2f, 0.2f, 0.2f, 0.2f }, rows[1], (a, b) => Math.Abs(a - b) < 1e-6);
        Assert.Equal("/d/labels/train/a.txt", YoloGroundTruth.LabelPathFor("/d/images/train/a.jpg"));
    }

    [SkippableFact]
    public void PredictionsJsonRoundTripsToTheSameMetrics()
    {
        // Simulated detections on coco128: jittered ground truth (some wrong classes), plus background boxes.
        var names = CocoCategories.Names;
        var gt = YoloGroundTruth.Load(Coco128Images, 80);
        var rng = new Random(5);
        var direct = new DetectionMetrics(names);
        var directRounded = new DetectionMetrics(names);
        var writer = CocoPredictionsWriter.For(names);
        foreach (var g in gt)
        {
            var pred = new List<float>();
            for (int i = 0; i < g.Count; i++)
            {
                if (rng.NextDouble() < 0.15) continue;
                float bw = g.Boxes[i * 4 + 2] - g.Boxes[i * 4], bh = g.Boxes[i * 4 + 3] - g.Boxes[i * 4 + 1];
                for (int q = 0; q < 4; q++) pred.Add(g.Boxes[i * 4 + q] + (float)(rng.NextDouble() - 0.5) * 0.2f * (q % 2 == 0 ? bw : bh));
                pred.Add(0.2f + 0.8f * rng.NextSingle());
                pred.Add(rng.NextDouble() < 0.9 ? g.Classes[i] : rng.Next(80));
            }
            for (int k = rng.Next(0, 10); k > 0; k--)
            {
                float x = rng.NextSingle() * (g.Width - 40), y = rng.NextSingle() * (g.Height - 40);
                pred.AddRange(new[] { x, y, x + 40, y + 30, 0.3f * rng.NextSingle(), rng.Next(80) });
            }
            var p = pred.ToArray();
            direct.Update(p, g.Boxes, g.Classes);
            directRounded.Update(RoundLikeJson(p), g.Boxes, g.Classes);
            writer.Add(g.File, p);
        }
        var json = Path.Combine(_tmp.NewDir(), "predictions.json");
        writer.Save(json);
        var fromJson = CocoJsonEvaluator.Evaluate(json, Coco128Images, names);

        // Exactly the numbers of the same detections at the file's precision (3-decimal boxes, 5-decimal scores) ...
        var exact = directRounded.Compute();
        Assert.Equal(exact.Images, fromJson.Images);
        Assert.Equal(exact.Instances, fromJson.Instances);
        Assert.Equal(exact.Map50, fromJson.Map50, 12);
        Assert.Equal(exact.Map, fromJson.Map, 12);
        Assert.Equal(exact.MeanPrecision, fromJson.MeanPrecision, 12);
        Assert.Equal(exact.MeanRecall, fromJson.MeanRecall, 12);
        Assert.Equal(exact.Ap5095, fromJson.Ap5095);

        // ... and within 1e-3 of the full-precision ones: rounding scores to 5 decimals can tie two
        // detections of a rare class, and the order among ties moves its AP a little.
        var full = direct.Compute();
        Assert.InRange(full.Map, 0.2, 0.9);
        Assert.InRange(Math.Abs(full.Map50 - fromJson.Map50), 0, 1e-3);
        Assert.InRange(Math.Abs(full.Map - fromJson.Map), 0, 1e-3);
        Assert.InRange(Math.Abs(full.MeanPrecision - fromJson.MeanPrecision), 0, 1e-3);
        Assert.InRange(Math.Abs(full.MeanRecall - fromJson.MeanRecall), 0, 1e-3);
    }

    /// <summary>What a detection becomes after a trip through predictions.json.</summary>
    static float[] RoundLikeJson(float[] p)
    {
        var r = (float[])p.Clone();
        for (int i = 0; i < p.Length; i += 6)
        {
            double x = Math.Round((double)p[i], 3), y = Math.Round((double)p[i + 1], 3);
            double w = Math.Round((double)(p[i + 2] - p[i]), 3), h = Math.Round((double)(p[i + 3] - p[i + 1]), 3);
            r[i] = (float)x; r[i + 1] = (float)y; r[i + 2] = (float)(x + w); r[i + 3] = (float)(y + h);
            r[i + 4] = (float)Math.Round((double)p[i + 4], 5);
        }
        return r;
    }

    [SkippableFact]
    public void EvaluatorRejectsDetectionsForUnknownImagesOrCategories()
    {
        var gt = new[] { new GroundTruthImage("/x/images/000000000001.jpg", 10, 10, new float[] { 0, 0, 5, 5 }, new[] { 0 }) };
        var names = new[] { "a" };
        Assert.Throws<InvalidDataException>(() => CocoJsonEvaluator.Evaluate(new[] { new CocoDetection("2", 1, 0, 0, 5, 5, 0.9) }, gt, names));
        Assert.Throws<InvalidDataException>(() => CocoJsonEvaluator.Evaluate(new[] { new CocoDetection("1", 7, 0, 0, 5, 5, 0.9) }, gt, names));
        var ok = CocoJsonEvaluator.Evaluate(new[] { new CocoDetection("1", 1, 0, 0, 5, 5, 0.9) }, gt, names);
        Assert.Equal(0.995, ok.Map, 9);
    }
}
