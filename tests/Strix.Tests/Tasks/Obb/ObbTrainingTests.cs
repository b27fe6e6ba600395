using System.Globalization;
using Strix.Config;
using Strix.Data;
using Strix.Models;
using Strix.Tasks;
using Strix.Tasks.Detect;
using Strix.Tasks.Obb;
using Strix.Tests.Data;
using static TorchSharp.torch;

namespace Strix.Tests.Tasks.Obb;

public class ObbTrainingTests(Xunit.Abstractions.ITestOutputHelper output)
{
    /// <summary>A 64×64 batch of one image holding one 20×20 square at (32, 32), unrotated.</summary>
    static Batch OneSquare() => new()
    {
        Images = zeros(new long[] { 1, 3, 64, 64 }, ScalarType.Byte),
        BatchIdx = zeros(1), Cls = zeros(1),
        Bboxes = tensor(new float[] { 0.5f, 0.5f, 20 / 64f, 20 / 64f }, new long[] { 1, 4 }),
        OrientedBoxes = tensor(new float[] { 0.5f, 0.5f, 20 / 64f, 20 / 64f, 0 }, new long[] { 1, 5 }),
        Files = new[] { "square.png" }, OriginalShapes = new[] { (64, 64) }, ResizedShapes = new[] { (64, 64) },
        RatioPad = new[] { (1.0, 1.0, 0.0, 0.0) }, Count = 1,
    };

    /// <summary>Decoded OBB output [1, 4 + 1 + 1, 2]: one box at (32, 32) 20×20 turned by <paramref name="angle"/> (score 0.9), one below conf.</summary>
    static Tensor Predictions(float angle) => tensor(new float[]
    {
        32, 5,        // cx
        32, 5,        // cy
        20, 2,        // w
        20, 2,        // h
        0.9f, 0.0005f, // class score
        angle, 0,     // angle
    }, new long[] { 1, 6, 2 });

    [Fact]
    public void Rotated_detections_are_matched_by_their_polygon_overlap()
    {
        // The same square: matched at every threshold. Turned by 45°: polygon IoU 1/√2 = 0.707 passes 0.50 … 0.70 (5 of
        // the 10 thresholds), so mAP50-95 is half of mAP50 (its axis-aligned bounds would overlap by only 0.5). A single
        // perfect detection scores 0.995 on the 101-point curve with its end points, as in Ultralytics and COCO.
        foreach (var (angle, map) in new[] { (0f, 0.995), (MathF.PI / 4, 0.4975) })
        {
            var v = new ObbValidator(new[] { "square" }, new ValidatorOptions());
            v.Begin();
            using (var batch = OneSquare())
            using (var p = Predictions(angle))
                v.Postprocess(p, batch, 0);
            var r = v.End();
            Assert.Equal(1, r.Metrics.Images);
            Assert.Equal(0.995, r.Metrics.Map50, 6);
            Assert.Equal(map, r.Metrics.Map, 6);
        }
    }

    [Fact]
    public void Obb_validation_refuses_a_detection_model_by_name()
    {
        using var model = new DetectionModel(Strix.Models.Architecture.ModelCatalog.Builtin("yolov8"), Strix.Tests.Export.ExportTestModels.Tiny, 1);
        var v = new ObbValidator(new[] { "square" });
        v.Begin();
        using var batch = OneSquare();
        var e = Assert.Throws<NotSupportedException>(() => v.Step(model, batch, 0));
        Assert.Contains("oriented-box model", e.Message);
    }

    /// <summary>A folder of 64×64 images, each with one red rectangle turned by 30° and its OBB row.</summary>
    static string TinyObbDataset(string root, int images = 4)
    {
        var rng = new Random(3);
        foreach (var split in new[] { "train", "val" })
        {
            Directory.CreateDirectory(Path.Combine(root, "images", split));
            Directory.CreateDirectory(Path.Combine(root, "labels", split));
            for (int i = 0; i < images; i++)
            {
                var img = RgbImage.Filled(64, 64, 40, 40, 40);
                float cx = 24 + 16 * (float)rng.NextDouble(), cy = 24 + 16 * (float)rng.NextDouble();
                var corners = Polygons.RectCorners(cx, cy, 24, 10, MathF.PI / 6);
                for (int y = 0; y < 64; y++)
                    for (int x = 0; x < 64; x++)
                    {
                        float dx = x + 0.5f - cx, dy = y + 0.5f - cy;
                        float u = dx * MathF.Cos(MathF.PI / 6) + dy * MathF.Sin(MathF.PI / 6), w = -dx * MathF.Sin(MathF.PI / 6) + dy * MathF.Cos(MathF.PI / 6);
                        if (MathF.Abs(u) <= 12 && MathF.Abs(w) <= 5) { int o = (y * 64 + x) * 3; img.Pixels[o] = 230; img.Pixels[o + 1] = 30; img.Pixels[o + 2] = 30; }
                    }
                ImageIO.Save(img, Path.Combine(root, "images", split, $"{i}.png"), 100);
                File.WriteAllText(Path.Combine(root, "labels", split, $"{i}.txt"),
                    "0 " + string.Join(' ', corners.Select(c => (c / 64).ToString("0.######", CultureInfo.InvariantCulture))) + "\n");
            }
        }
        var yaml = Path.Combine(root, "data.yaml");
        File.WriteAllText(yaml, "path: .\ntrain: images/train\nval: images/val\nnames: [plate]\n");
        return yaml;
    }

    [Fact]
    public void A_left_right_flip_mirrors_the_rotated_box_exactly()
    {
        var root = TestPaths.NewTempDir("obb-flip");
        var cfg = DatasetConfig.Load(TinyObbDataset(root, images: 1));
        var hyp = AugmentationOptions.None with { FlipLR = 1.0 };
        var options = DataLoaderOptions.ForTraining(64, 1, 0, hyp: hyp) with { OrientedBoxes = true, Shuffle = false };
        var ds = YoloDataset.Create(cfg, "train", options, _ => { });
        var label = ds.Items[0];
        var (cx, cy, w, h, a) = Polygons.MinAreaRect(label.Segments![0].Select((v, k) => v * 64).ToArray());
        var s = ds.Load(0, 0);
        var r = s.OrientedBoxes!;
        Assert.Equal(5, r.Length);
        // Mirrored: x → 64 − x; the angle θ becomes π − θ (the regular form of −θ); size unchanged.
        Assert.Equal((64 - cx) / 64, r[0], 3);
        Assert.Equal(cy / 64, r[1], 3);
        Assert.Equal(w / 64, r[2], 3);
        Assert.Equal(h / 64, r[3], 3);
        Assert.Equal(MathF.PI - a, r[4], 3);
        Assert.Equal(MathF.PI / 6, a, 3);
        // Without augmentation the letterboxed sample keeps the label's rectangle.
        var val = YoloDataset.Create(cfg, "train", DataLoaderOptions.ForValidation(64, 1, 0, rect: false) with { OrientedBoxes = true }, _ => { });
        var v = val.Load(0, 0).OrientedBoxes!;
        Assert.Equal(new[] { cx / 64, cy / 64, w / 64, h / 64, a }.Select(x => MathF.Round(x, 3)), v.Select(x => MathF.Round(x, 3)));
    }

    [Fact]
    public void A_rotation_of_any_degree_turns_the_box_and_keeps_its_size()
    {
        var root = TestPaths.NewTempDir("obb-rotate");
        var cfg = DatasetConfig.Load(TinyObbDataset(root, images: 1));
        var hyp = AugmentationOptions.None with { Degrees = 180 };
        var ds = YoloDataset.Create(cfg, "train", DataLoaderOptions.ForTraining(64, 1, 0, hyp: hyp) with { OrientedBoxes = true, Shuffle = false }, _ => { });
        var (_, _, w, h, a) = Polygons.MinAreaRect(ds.Items[0].Segments![0].Select(v => v * 64).ToArray());
        var angles = new List<float>();
        for (int epoch = 0; epoch < 6; epoch++)
        {
            var r = ds.Load(0, epoch).OrientedBoxes!;
            // The shape stays inside the picture, so its rectangle turns whole: the same 24 × 10 within half a pixel.
            Assert.InRange(r[2] * 64 - w, -0.5f, 0.5f);
            Assert.InRange(r[3] * 64 - h, -0.5f, 0.5f);
            angles.Add(r[4]);
        }
        Assert.True(angles.Max() - angles.Min() > 0.5f, $"angles {string.Join(", ", angles)} did not turn");
        Assert.All(angles, x => Assert.InRange(x, 0f, MathF.PI));
    }

    [Fact]
    public void An_obb_model_trains_on_obb_labels_and_strix_val_repeats_its_final_metrics()
    {
        var root = TestPaths.NewTempDir("obb-train");
        var args = ConfigRecords.Parse<TrainConfig>(new Dictionary<string, string>
        {
            ["task"] = "obb", ["data"] = TinyObbDataset(root), ["model"] = "yolov8n-obb", ["imgsz"] = "64", ["batch"] = "4",
            ["epochs"] = "2", ["workers"] = "0", ["project"] = Path.Combine(root, "runs"), ["name"] = "train",
        });
        var log = new StringWriter();
        var result = YoloTraining.Run(args, log);
        output.WriteLine(log.ToString());
        var header = File.ReadAllLines(Path.Combine(result.RunDir, "results.csv"))[0].Split(',').Select(h => h.Trim());
        Assert.Equal(new[] { "epoch" }.Concat(DetectionModule.Columns), header);
        var rows = File.ReadAllLines(Path.Combine(result.RunDir, "results.csv")).Skip(1).ToArray();
        Assert.Equal(2, rows.Length);
        Assert.All(rows[0].Split(',').Skip(1).Take(3), v => Assert.True(double.IsFinite(double.Parse(v, CultureInfo.InvariantCulture)) && double.Parse(v, CultureInfo.InvariantCulture) > 0));
        Assert.True(File.Exists(Path.Combine(result.RunDir, "train_batch0.jpg")));
        Assert.True(File.Exists(Path.Combine(result.RunDir, "val_batch0_pred.jpg")));
        using (var best = ModelLoader.Load(result.BestPath!, null, _ => { }))
            Assert.Equal("obb", best.Model.Task);
        var val = new Strix.Cli.Commands.ValCommand();
        Assert.Equal(0, val.Run(new[] { $"model={result.BestPath}", $"data={args.Data}", "imgsz=64", "batch=8", "workers=0", "plots=false", $"project={root}" }));
        Assert.Equal(result.FinalMetrics["metrics/mAP50-95(B)"], val.LastResult!.Metrics.Map, 6);

        // The exported ONNX model validates through ONNX Runtime to the same rotated-box metrics as TorchSharp.
        var cfg = DatasetConfig.Load(args.Data);
        var onnx = Path.Combine(root, "best.onnx");
        using var loaded = ModelLoader.Load(result.BestPath!, null, _ => { });
        Strix.Export.OnnxExporter.Export(loaded.Model, onnx, new Strix.Export.OnnxExportOptions { ImageSize = 64, Names = cfg.Names });
        Strix.Eval.DetectionResults Validate(Strix.Inference.IDetectionBackend backend)
        {
            using var loader = DataLoader.Create(cfg, "val", DataLoaderOptions.ForValidation(64, 4, 0, rect: false) with { OrientedBoxes = true }, _ => { });
            return new ObbValidator(cfg.Names, new ValidatorOptions { Plots = false, Log = null }).Run(backend, loader).Metrics;
        }
        var torchResult = Validate(new Strix.Inference.TorchBackend(loaded.Model, cfg.Names, 64));
        using var ort = Strix.Export.OnnxRuntimeBackend.Open(onnx);
        Assert.Equal("obb", ort.Task);
        var ortResult = Validate(ort);
        output.WriteLine($"torch mAP50-95 {torchResult.Map:F6}, ORT {ortResult.Map:F6}");
        Assert.InRange(Math.Abs(torchResult.Map - ortResult.Map), 0, 1e-3);
        Assert.InRange(Math.Abs(torchResult.Map50 - ortResult.Map50), 0, 1e-3);
    }
}
