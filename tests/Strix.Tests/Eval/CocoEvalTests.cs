using Strix.Eval;

namespace Strix.Tests.Eval;

public class CocoEvalTests
{
    static CocoAnnotation Gt(long id, string img, double x, int cat = 1, bool crowd = false, double size = 50) =>
        new(id, img, cat, x, 0, size, size, size * size, crowd);
    static CocoDetection Dt(string img, double x, double score, int cat = 1, double size = 50) => new(img, cat, x, 0, size, size, score);

    [SkippableFact]
    public void PerfectDetectionsScoreOne()
    {
        var gt = new CocoGroundTruth(new[] { "1", "2" }, new[] { 1, 2 },
            new[] { Gt(1, "1", 0), Gt(2, "1", 100, cat: 2), Gt(3, "2", 0, size: 200) });
        var r = CocoEval.Evaluate(gt, new[] { Dt("1", 0, 0.9), Dt("1", 100, 0.8, cat: 2), Dt("2", 0, 0.7, size: 200) });
        Assert.Equal(1.0, r.Map, 12);   // pycocotools averages the 101 samples: no trapezoid tail (Ultralytics: 0.995)
        Assert.Equal(1.0, r.Map50, 12);
        Assert.Equal(1.0, r.Map75, 12);
        Assert.Equal(-1, r.Stats[3]);    // no small objects
        Assert.Equal(1.0, r.Stats[4], 12); // medium (50² px)
        Assert.Equal(1.0, r.Stats[5], 12); // large (200² px)
        Assert.Equal(1.0, r.Stats[8], 12); // AR@100
        Assert.Contains("Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 1.000", r.Summary());
    }

    [SkippableFact]
    public void KnownCurveAveragesPrecisionAt101RecallThresholds()
    {
        // 4 ground truths; detections by score TP FP TP FP TP: recall .25 .25 .5 .5 .75, precision 1 .5 .667 .5 .6,
        // envelope 1 .667 .667 .6 .6. At recall thresholds 0….25 (26 of them) precision 1, .26….50 (25) 2/3,
        // .51….75 (25) .6, above .75 (25) 0: AP = (26 + 25·2/3 + 25·.6) / 101 = 0.570957…
        var gt = new CocoGroundTruth(new[] { "1", "2", "3", "4" }, new[] { 1 },
            new[] { Gt(1, "1", 0), Gt(2, "2", 0), Gt(3, "3", 0), Gt(4, "4", 0) });
        var dts = new[] { Dt("1", 0, 0.9), Dt("2", 300, 0.8), Dt("2", 0, 0.7), Dt("3", 300, 0.6), Dt("3", 0, 0.5) };
        var r = CocoEval.Evaluate(gt, dts);
        double expected = (26 + 25 * 2.0 / 3 + 25 * 0.6) / 101;
        Assert.Equal(expected, r.Map50, 9);
        Assert.Equal(expected, r.Map, 9);
        Assert.Equal(0.75, r.Stats[8], 12);               // AR@100: 3 of 4 found
        Assert.Equal(0.25, r.Stats[6], 12);               // AR@1: one detection per image allowed, the first is a hit
    }

    [SkippableFact]
    public void CrowdRegionsAbsorbDetectionsWithoutCounting()
    {
        // One real object and a crowd region; a detection on the crowd is neither TP nor FP.
        var gt = new CocoGroundTruth(new[] { "1" }, new[] { 1 }, new[] { Gt(1, "1", 0), Gt(2, "1", 200, crowd: true, size: 100) });
        var withCrowdHit = CocoEval.Evaluate(gt, new[] { Dt("1", 210, 0.95), Dt("1", 0, 0.9) });
        Assert.Equal(1.0, withCrowdHit.Map, 12);
        // Without the crowd flag the same detection is a false positive ahead of the hit.
        var gtNoCrowd = new CocoGroundTruth(new[] { "1" }, new[] { 1 }, new[] { Gt(1, "1", 0), Gt(2, "1", 600) });
        Assert.True(CocoEval.Evaluate(gtNoCrowd, new[] { Dt("1", 210, 0.95), Dt("1", 0, 0.9) }).Map < 0.6);
    }

    [SkippableFact]
    public void DuplicatesAreFalsePositivesAndOnlyTop100Count()
    {
        var gt = new CocoGroundTruth(new[] { "1" }, new[] { 1 }, new[] { Gt(1, "1", 0) });
        // 100 confident misses, then the hit at rank 101: cut by maxDets=100.
        var dts = Enumerable.Range(0, 100).Select(i => Dt("1", 1000 + 60 * i, 0.9 - i * 1e-4)).Append(Dt("1", 0, 0.1)).ToArray();
        Assert.Equal(0.0, CocoEval.Evaluate(gt, dts).Map, 12);
        // A duplicate after the hit: precision falls after recall is complete, AP stays 1.
        Assert.Equal(1.0, CocoEval.Evaluate(gt, new[] { Dt("1", 0, 0.9), Dt("1", 1, 0.8) }).Map50, 12);
    }

    [SkippableFact]
    public void ClassesWithoutGroundTruthAreSkipped()
    {
        var gt = new CocoGroundTruth(new[] { "1" }, new[] { 1, 2, 3 }, new[] { Gt(1, "1", 0) });
        var r = CocoEval.Evaluate(gt, new[] { Dt("1", 0, 0.9), Dt("1", 300, 0.8, cat: 2) });
        Assert.Equal(1.0, r.Map, 12); // class 2's stray detection has no ground truth to be scored against
    }

    [SkippableFact]
    public void RejectsResultsForUnknownImages()
    {
        var gt = new CocoGroundTruth(new[] { "1" }, new[] { 1 }, new[] { Gt(1, "1", 0) });
        Assert.Throws<InvalidDataException>(() => CocoEval.Evaluate(gt, new[] { Dt("9", 0, 0.9) }));
    }

    [SkippableFact]
    public void Coco128AnnotationsScoredAgainstThemselves()
    {
        var gt = CocoGroundTruth.Load(TestPaths.Asset("coco128", "annotations", "instances_coco128_train2017.json"));
        Assert.Equal(128, gt.ImageIds.Count);
        Assert.Equal(939, gt.Annotations.Count);
        Assert.Equal(10, gt.Annotations.Count(a => a.IsCrowd));
        var dts = gt.Annotations.Where(a => !a.IsCrowd).Select((a, i) => new CocoDetection(a.ImageId, a.CategoryId, a.X, a.Y, a.Width, a.Height, 1 - i * 1e-4)).ToList();
        var r = CocoEval.Evaluate(gt, dts);
        Assert.Equal(1.0, r.Map, 9);
        Assert.Equal(1.0, r.Map50, 9);
    }

    [SkippableFact]
    public void YoloGroundTruthGivesTheSameBoxesAsTheCocoJson()
    {
        // coco128's YOLO labels are the non-crowd COCO boxes, normalised: converted back they match within a pixel.
        var yolo = CocoGroundTruth.FromYolo(YoloGroundTruth.Load(TestPaths.Asset("coco128", "images", "train2017"), 80), CocoCategories.Coco80To91);
        var json = CocoGroundTruth.Load(TestPaths.Asset("coco128", "annotations", "instances_coco128_train2017.json"));
        Assert.Equal(json.Annotations.Count(a => !a.IsCrowd), yolo.Annotations.Count);
        var dts = yolo.Annotations.Select((a, i) => new CocoDetection(a.ImageId, a.CategoryId, a.X, a.Y, a.Width, a.Height, 1 - i * 1e-4)).ToList();
        var r = CocoEval.Evaluate(json, dts);
        Assert.True(r.Map50 > 0.999, $"AP50 {r.Map50}");
        Assert.True(r.Map > 0.99, $"AP {r.Map}");
    }
}
