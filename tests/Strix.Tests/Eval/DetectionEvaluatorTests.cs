using Strix.Data;
using Strix.Eval;
using Strix.Plotting;
using static TorchSharp.torch;

namespace Strix.Tests.Eval;

public class DetectionEvaluatorTests : IDisposable
{
    readonly Scratch _tmp = new();
    public void Dispose() => _tmp.Dispose();

    /// <summary>coco8 val letterboxed to 320 the way the validator sees it: image, ratio/pad, labels normalised to the input.</summary>
    static List<(string File, RgbImage Input, Letterbox.Result Lb, int[] Cls, float[] Xywhn, GroundTruthImage Gt)> Coco8Val(int size = 320)
    {
        var gts = YoloGroundTruth.Load(TestPaths.Asset("coco8", "images", "val"), 80);
        var list = new List<(string, RgbImage, Letterbox.Result, int[], float[], GroundTruthImage)>();
        foreach (var g in gts)
        {
            var lb = Letterbox.Apply(ImageIO.Load(g.File), size, size, scaleUp: false);
            var xywhn = new float[g.Count * 4];
            for (int i = 0; i < g.Count; i++)
            {
                double x1 = g.Boxes[i * 4] * lb.RatioW + lb.PadW, y1 = g.Boxes[i * 4 + 1] * lb.RatioH + lb.PadH;
                double x2 = g.Boxes[i * 4 + 2] * lb.RatioW + lb.PadW, y2 = g.Boxes[i * 4 + 3] * lb.RatioH + lb.PadH;
                xywhn[i * 4] = (float)((x1 + x2) / 2 / lb.Image.Width); xywhn[i * 4 + 1] = (float)((y1 + y2) / 2 / lb.Image.Height);
                xywhn[i * 4 + 2] = (float)((x2 - x1) / lb.Image.Width); xywhn[i * 4 + 3] = (float)((y2 - y1) / lb.Image.Height);
            }
            list.Add((g.File, lb.Image, lb, g.Classes, xywhn, g));
        }
        return list;
    }

    [SkippableFact]
    public void DetectionsOnTheGroundTruthScorePerfectlyAndMapBackToOriginalPixels()
    {
        var ev = new DetectionEvaluator(CocoCategories.Names, confusionMatrix: true, saveJson: true);
        foreach (var (file, input, lb, cls, xywhn, gt) in Coco8Val())
        {
            // "Detections" = the labels in input pixels, confidences descending.
            var det = new float[cls.Length * 6];
            for (int i = 0; i < cls.Length; i++)
            {
                float cx = xywhn[i * 4] * input.Width, cy = xywhn[i * 4 + 1] * input.Height, w = xywhn[i * 4 + 2] * input.Width, h = xywhn[i * 4 + 3] * input.Height;
                det[i * 6] = cx - w / 2; det[i * 6 + 1] = cy - h / 2; det[i * 6 + 2] = cx + w / 2; det[i * 6 + 3] = cy + h / 2;
                det[i * 6 + 4] = 0.9f - i * 0.01f; det[i * 6 + 5] = cls[i];
            }
            var orig = ev.Add(det, cls, xywhn, input.Height, input.Width, (gt.Height, gt.Width), (lb.RatioW, lb.RatioH, lb.PadW, lb.PadH), file);
            for (int i = 0; i < cls.Length; i++)
                for (int q = 0; q < 4; q++) Assert.Equal(gt.Boxes[i * 4 + q], orig[i * 6 + q], 0.02);
        }
        var r = ev.Compute();
        Assert.Equal(4, r.Images);
        Assert.Equal(17, r.Instances);
        Assert.Equal(0.995, r.Map, 6);
        var (tp, fp) = ev.Confusion!.TpFp();
        Assert.Equal(17, tp.Sum());
        Assert.Equal(0, fp.Sum());
        Assert.Equal(17, ev.Json!.Count);
    }

    [SkippableFact]
    public void SingleClassCollapsesPredictedClasses()
    {
        var ev = new DetectionEvaluator(new[] { "object" }, singleClass: true);
        ev.Add(new float[] { 10, 10, 30, 30, 0.9f, 5 }, new[] { 0 }, new float[] { 0.25f, 0.25f, 0.25f, 0.25f }, 80, 80, (80, 80), (1, 1, 0, 0), "a.jpg");
        Assert.Equal(0.995, ev.Compute().Map50, 6);
    }

    [SkippableFact]
    public void BatchGridDrawsLabelsAndPredictions()
    {
        var val = Coco8Val(320);
        using var images = stack(val.Select(v => tensor(v.Input.Pixels, new long[] { v.Input.Height, v.Input.Width, 3 }).permute(2, 0, 1)).ToArray());
        var labels = val.Select(v =>
        {
            var xyxy = new float[v.Cls.Length * 4];
            for (int i = 0; i < v.Cls.Length; i++)
            {
                float cx = v.Xywhn[i * 4] * v.Input.Width, cy = v.Xywhn[i * 4 + 1] * v.Input.Height;
                float w = v.Xywhn[i * 4 + 2] * v.Input.Width, h = v.Xywhn[i * 4 + 3] * v.Input.Height;
                xyxy[i * 4] = cx - w / 2; xyxy[i * 4 + 1] = cy - h / 2; xyxy[i * 4 + 2] = cx + w / 2; xyxy[i * 4 + 3] = cy + h / 2;
            }
            return new ImageBoxes(xyxy, v.Cls);
        }).ToList();
        var preds = labels.Select(l => l with { Confidences = Enumerable.Range(0, l.Count).Select(i => i % 2 == 0 ? 0.8f : 0.1f).ToArray() }).ToList();
        var dir = Environment.GetEnvironmentVariable("STRIX_PLOT_DIR") is { Length: > 0 } keep ? keep : _tmp.NewDir();
        string lp = Path.Combine(dir, "val_batch0_labels.jpg"), pp = Path.Combine(dir, "val_batch0_pred.jpg");
        BatchGrid.Save(images, labels, CocoCategories.Names, val.Select(v => v.File).ToList(), lp);
        BatchGrid.Save(images, preds, CocoCategories.Names, val.Select(v => v.File).ToList(), pp);
        var li = ImageIO.Load(lp);
        Assert.Equal((640, 640), (li.Width, li.Height)); // 2×2 tiles of 320
        Assert.True(new FileInfo(pp).Length > 10_000);
    }
}
