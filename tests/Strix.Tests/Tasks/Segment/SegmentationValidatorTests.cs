using Strix.Data;
using Strix.Tasks;
using Strix.Tasks.Segment;
using static TorchSharp.torch;

namespace Strix.Tests.Tasks.Segment;

/// <summary>
/// The validator's mask path on hand-built outputs: prototypes that are exactly the objects' masks make the predicted
/// masks known, so mask IoU and mask AP are computable by hand. Prototypes and target masks are given at the input's
/// own resolution here, so no resampling blurs the hand-computed areas (MaskToOriginalTests covers the resampling).
/// </summary>
public class SegmentationValidatorTests
{
    static readonly string[] Names = { "a", "b" };

    // A 128×128 image (its own original size): object 0 (class a) is rows 0–63 × cols 0–63, object 1 (class b) rows
    // 64–127 × cols 32–127; their boxes are (0, 0, 64, 64) and (32, 64, 128, 128).
    const int S = 128;

    static Batch MakeBatch()
    {
        var plane = zeros(new long[] { 1, S, S }, ScalarType.Int32);
        plane[0, ..64, ..64] = tensor(1);
        plane[0, 64.., 32..] = tensor(2);
        return new Batch
        {
            Images = zeros(new long[] { 1, 3, S, S }, ScalarType.Byte),
            BatchIdx = zeros(2), Cls = tensor(new float[] { 0, 1 }),
            Bboxes = tensor(new float[] { 0.25f, 0.25f, 0.5f, 0.5f, 0.625f, 0.75f, 0.75f, 0.5f }, new long[] { 2, 4 }),
            Masks = plane, Files = new[] { "img.jpg" }, OriginalShapes = new[] { (S, S) }, ResizedShapes = new[] { (S, S) },
            RatioPad = new[] { (1.0, 1.0, 0.0, 0.0) }, Count = 1,
        };
    }

    /// <summary>Two anchors predicting the two objects' boxes and classes, with one-hot mask coefficients.</summary>
    static Tensor Predictions() => tensor(new float[]
    {
        // rows: x, y, w, h, score a, score b, coefficient 0, coefficient 1; columns: the two anchors
        32, 80,
        32, 96,
        64, 96,
        64, 64,
        0.9f, 0,
        0, 0.8f,
        1, 0,
        0, 1,
    }, new long[] { 1, 8, 2 });

    /// <summary>Prototype k: +20 inside <paramref name="cells"/>[k], −20 elsewhere (sigmoid: 1 or 0).</summary>
    static Tensor Prototypes(params (int R0, int R1, int C0, int C1)[] cells)
    {
        var p = full(new long[] { 1, cells.Length, S, S }, -20f);
        for (int k = 0; k < cells.Length; k++) p[0, k, cells[k].R0..cells[k].R1, cells[k].C0..cells[k].C1] = tensor(20f);
        return p;
    }

    static ValidationResultPair Validate(Tensor protos, ValidatorOptions? options = null)
    {
        var v = new SegmentationValidator(Names, options ?? new ValidatorOptions { Log = null });
        v.Begin();
        using var batch = MakeBatch();
        using var preds = Predictions();
        v.Postprocess(preds, protos, batch, 0);
        var r = v.End();
        return new(r.Metrics.Map, r.Masks!.Map, r.Masks.Ap5095.ToArray(), r);
    }

    sealed record ValidationResultPair(double BoxMap, double MaskMap, double[] MaskApPerClass, Strix.Tasks.Detect.ValidationResult Result);

    [Fact]
    public void Only_detections_whose_grown_box_meets_an_object_of_their_class_get_a_mask()
    {
        // The two objects of MakeBatch; prototypes at stride 4 grow every box by 2·4 + 2 = 10 input pixels.
        var gtBoxes = new float[] { 0.25f, 0.25f, 0.5f, 0.5f, 0.625f, 0.75f, 0.75f, 0.5f };
        var gtClasses = new[] { 0, 1 };
        var boxes = new float[]
        {
            70, 0, 100, 30,    // class a, 6 px right of object 0: 20 px apart < 10 + 10 → kept
            90, 0, 120, 30,    // class a, 26 px right of object 0 → dropped
            0, 0, 20, 20,      // class b, far from object 1 (it touches object 0, of the other class) → dropped
            40, 70, 60, 90,    // class b, inside object 1 → kept
        };
        var dets = new float[] { 70, 0, 100, 30, 0.9f, 0, 90, 0, 120, 30, 0.9f, 0, 0, 0, 20, 20, 0.9f, 1, 40, 70, 60, 90, 0.9f, 1 };
        Assert.Equal(new[] { 0, 3 }, SegmentationValidator.MatchableRows(boxes, dets, gtClasses, gtBoxes, S, S, protoStride: 4));
        Assert.Equal(new[] { 0, 1, 3 }, SegmentationValidator.MatchableRows(boxes, dets, gtClasses, gtBoxes, S, S, protoStride: 8));
    }

    [Fact]
    public void Masks_equal_to_the_targets_score_one()
    {
        using var protos = Prototypes((0, 64, 0, 64), (64, 128, 32, 128));
        var r = Validate(protos);
        Assert.True(r.BoxMap > 0.99, $"box mAP {r.BoxMap}");
        Assert.True(r.MaskMap > 0.99, $"mask mAP {r.MaskMap}");
        Assert.Equal(r.Result.Metrics.Fitness + r.Result.Masks!.Fitness, r.Result.Fitness, 12);
        Assert.True(r.Result.ToDictionary()["metrics/mAP50-95(M)"] > 0.99);
    }

    [Fact]
    public void A_mask_one_column_short_matches_up_to_its_iou()
    {
        // Object 1's predicted mask loses its first 16 columns: IoU 80/96 = 0.833, a true positive at the seven
        // thresholds 0.50…0.80 and a miss at 0.85, 0.90, 0.95, so class b's mask AP50-95 is 0.7 while its box stays exact.
        using var protos = Prototypes((0, 64, 0, 64), (64, 128, 48, 128));
        var r = Validate(protos);
        Assert.True(r.BoxMap > 0.99, $"box mAP {r.BoxMap}");
        Assert.True(r.MaskApPerClass[0] > 0.99, $"class a {r.MaskApPerClass[0]}");
        // AP at each threshold is the 101-point interpolated area (0.995 for a perfect class, as pycocotools and Ultralytics).
        Assert.Equal(0.7 * r.MaskApPerClass[0], r.MaskApPerClass[1], 6);
        Assert.Equal((r.MaskApPerClass[0] + r.MaskApPerClass[1]) / 2, r.MaskMap, 9);
    }

    [Fact]
    public void Predictions_json_holds_each_detection_s_mask_as_rle_on_the_original_image()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            using var protos = Prototypes((0, 64, 0, 64), (64, 128, 32, 128));
            Validate(protos, new ValidatorOptions { Log = null, SaveJson = true, Plots = false, SaveDir = dir });
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "predictions.json")));
            var entries = doc.RootElement.EnumerateArray().ToArray();
            Assert.Equal(2, entries.Length);
            var seg = entries[0].GetProperty("segmentation");
            Assert.Equal(new[] { S, S }, seg.GetProperty("size").EnumerateArray().Select(e => e.GetInt32()).ToArray());
            var rle = new Strix.Eval.CocoRle(S, S, seg.GetProperty("counts").GetString()!);
            var mask = rle.Decode();
            // Class a's mask: the top-left 64×64 pixels.
            Assert.Equal(64 * 64, rle.Area);
            Assert.True(Enumerable.Range(0, S * S).All(i => (mask[i] != 0) == (i / S < 64 && i % S < 64)));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void The_plots_show_masks_and_name_the_mask_curves()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            using var protos = Prototypes((0, 64, 0, 64), (64, 128, 32, 128));
            var r = Validate(protos, new ValidatorOptions { Log = null, Plots = true, SaveDir = dir }).Result;
            foreach (var f in new[] { "MaskPR_curve.png", "MaskF1_curve.png", "BoxPR_curve.png", "val_batch0_pred.jpg", "val_batch0_labels.jpg" })
                Assert.Contains(Path.Combine(dir, f), r.Files);
            // Both tiles are tinted where the masks are: inside object b, away from its label, half its class colour over black.
            var b = Strix.Plotting.Annotator.ColorFor(1);
            foreach (var f in new[] { "val_batch0_pred.jpg", "val_batch0_labels.jpg" })
            {
                using var bmp = SkiaSharp.SKBitmap.Decode(Path.Combine(dir, f));
                var px = bmp.GetPixel(100, 110);
                Assert.True(Math.Abs(px.Red - b.Red / 2) < 24 && Math.Abs(px.Green - b.Green / 2) < 24 && Math.Abs(px.Blue - b.Blue / 2) < 24,
                    $"{f}: {px}, expected about half of {b}");
            }
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void A_detection_model_is_refused_by_name()
    {
        using var model = Strix.Models.DetectionModel.Create("yolov8n", 2);
        var v = new SegmentationValidator(Names, new ValidatorOptions { Log = null });
        v.Begin();
        using var batch = MakeBatch();
        var e = Assert.Throws<NotSupportedException>(() => v.Step(model, batch, 0));
        Assert.Contains("segmentation model", e.Message);
    }
}
