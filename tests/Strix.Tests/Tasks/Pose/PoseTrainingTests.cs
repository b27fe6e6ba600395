using System.Globalization;
using Strix.Config;
using Strix.Data;
using Strix.Eval;
using Strix.Loss;
using Strix.Models;
using Strix.Models.Architecture;
using Strix.Tasks;
using Strix.Tasks.Pose;
using Strix.Tests.Data;
using static TorchSharp.torch;

namespace Strix.Tests.Tasks.Pose;

public class PoseTrainingTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public void Oks_is_one_at_the_labelled_points_and_falls_with_distance_relative_to_the_area()
    {
        var sig = new[] { 0.5f, 0.5f };
        float[] gt = { 10, 10, 2, 50, 50, 0 };          // the second point unlabelled: it does not count
        float[] preds = { 10, 10, 2, 0, 0, 0,            // exact
                          13, 14, 2, 0, 0, 0 };          // 5 px away
        var oks = KeypointOks.Matrix(preds, gt, new float[] { 100 }, sig, 2);
        Assert.Equal(1f, oks[0], 5);
        // exp(−25 / ((2·0.5)²·100·2)) = exp(−0.125)
        Assert.Equal(Math.Exp(-0.125), oks[1], 5);
        Assert.Equal(0.1f, PoseLoss.Sigmas(10)[3], 6);
        Assert.Equal(0.026f, PoseLoss.Sigmas(17)[0], 6);
    }

    [Fact]
    public void The_shape_keypoints_are_the_centre_and_the_outline_up_right_down_and_left()
    {
        // A square 0..2 × 0..4 (normalised units): centre (1, 2), top (1, 0), right (2, 2), bottom (1, 4), left (0, 2).
        var k = ShapesPose.Keypoints(new float[] { 0, 0, 2, 0, 2, 4, 0, 4 });
        Assert.Equal(new[] { 1f, 2f, 1f, 0f, 2f, 2f, 1f, 4f, 0f, 2f }, k);
        var row = ShapesPose.Row(3, new float[] { 0.1f, 0.2f, 0.3f, 0.2f, 0.3f, 0.6f, 0.1f, 0.6f });
        Assert.StartsWith("3 0.2 0.4 0.2 0.4 0.2 0.4 2 0.2 0.2 2 0.3 0.4 2", row);
        Assert.Equal(5 + 15, row.Split(' ').Length);
    }

    [Fact]
    public void The_built_in_pose_data_is_a_valid_pose_dataset_with_five_visible_keypoints_per_shape()
    {
        var root = Path.Combine(TestPaths.NewTempDir("shapes-pose"), "shapes-pose");
        Strix.IO.AtomicFolder.Ensure(root, "data.yaml", tmp => ShapesPose.Generate(tmp, trainScenes: 6, valScenes: 2));
        var cfg = DatasetConfig.Load(Path.Combine(root, "data.yaml"));
        Assert.Equal(new[] { 5, 3 }, cfg.KptShape);
        Assert.Equal(ShapesPose.FlipIdx, cfg.FlipIdx);
        var scan = LabelScan.Run(cfg.Train, cfg.Names.Length, kptShape: cfg.KptShape);
        Assert.Equal(0, scan.Corrupt);
        foreach (var l in scan.Valid)
            for (int i = 0; i < l.Count; i++)
            {
                var k = l.Keypoints![i];
                float cx = l.Boxes[i * 4], cy = l.Boxes[i * 4 + 1], w = l.Boxes[i * 4 + 2], h = l.Boxes[i * 4 + 3];
                for (int j = 0; j < 5; j++)
                {
                    Assert.Equal(2f, k[j * 3 + 2]);
                    // Every keypoint lies on or inside its shape's box.
                    Assert.InRange(k[j * 3], cx - w / 2 - 1e-4f, cx + w / 2 + 1e-4f);
                    Assert.InRange(k[j * 3 + 1], cy - h / 2 - 1e-4f, cy + h / 2 + 1e-4f);
                }
                Assert.True(k[1 * 3 + 1] <= k[1] && k[3 * 3 + 1] >= k[1]); // top above the centre, bottom below
                Assert.True(k[4 * 3] <= k[0] && k[2 * 3] >= k[0]);         // left of it, right of it
            }
    }

    [Fact]
    public void Perfect_keypoints_cost_nothing_and_a_displaced_one_costs_more()
    {
        manual_seed(0);
        using var model = new DetectionModel(ModelCatalog.Builtin("yolov8-pose").WithKptShape(new[] { 2, 3 }), Strix.Tests.Export.ExportTestModels.Tiny, 1);
        Assert.Equal(new[] { 2, 3 }, model.KptShape);
        Assert.Contains("kpt_shape: [2, 3]", model.Spec.Text);
        model.train();
        var loss = new PoseLoss(model);
        using var x = rand(1, 3, 64, 64);
        var outs = model.forward(x);
        using var batchIdx = zeros(1);
        using var cls = zeros(1);
        using var boxes = tensor(new float[] { 0.5f, 0.5f, 0.5f, 0.5f }, new long[] { 1, 4 });
        // Targets the model predicts exactly cannot be built by hand; compare a target near its prediction with one far off.
        using var near = tensor(new float[] { 0.5f, 0.5f, 2, 0.55f, 0.45f, 2 }, new long[] { 1, 2, 3 });
        using var far = tensor(new float[] { 0.05f, 0.95f, 2, 0.95f, 0.05f, 2 }, new long[] { 1, 2, 3 });
        var (l1, i1) = loss.Compute(outs, batchIdx, cls, boxes, near);
        var (l2, i2) = loss.Compute(outs, batchIdx, cls, boxes, far);
        var a = i1.data<float>().ToArray();
        var b = i2.data<float>().ToArray();
        Assert.Equal(5, a.Length);
        Assert.Equal(a[0], b[0], 5); // box, cls and dfl terms do not see the keypoints
        Assert.Equal(a[3], b[3], 5);
        Assert.True(b[1] > a[1], $"a far keypoint must cost more: {a[1]} vs {b[1]}");
        Assert.True(a[2] > 0 && b[2] > 0);
        l1.backward(); // gradients flow through the keypoint branch
        Assert.NotNull(model.named_parameters().First(p => p.name.Contains("cv4.0.2.weight")).parameter.grad);
        using var none = zeros(new long[] { 1, 2, 3 }); // nothing labelled: the location term is exactly zero
        var (_, i3) = loss.Compute(model.forward(x), batchIdx, cls, boxes, none);
        Assert.Equal(0f, i3.data<float>()[1], 6);
    }

    static string TinyPoseDataset(string root)
    {
        var rng = new Random(2);
        foreach (var split in new[] { "train", "val" })
        {
            Directory.CreateDirectory(Path.Combine(root, "images", split));
            Directory.CreateDirectory(Path.Combine(root, "labels", split));
            for (int i = 0; i < 4; i++)
            {
                var img = RgbImage.Filled(64, 64, 40, 40, 40);
                float cx = 0.3f + 0.4f * (float)rng.NextDouble(), cy = 0.3f + 0.4f * (float)rng.NextDouble();
                DataFixtures.FillRect(img, cx, cy, 0.3f, 0.3f, (230, 30, 30));
                ImageIO.Save(img, Path.Combine(root, "images", split, $"{i}.png"), 100);
                File.WriteAllText(Path.Combine(root, "labels", split, $"{i}.txt"), string.Create(CultureInfo.InvariantCulture,
                    $"0 {cx} {cy} 0.3 0.3 {cx - 0.15f} {cy - 0.15f} 2 {cx + 0.15f} {cy + 0.15f} 2\n"));
            }
        }
        var yaml = Path.Combine(root, "data.yaml");
        File.WriteAllText(yaml, "path: .\ntrain: images/train\nval: images/val\nnames: [plate]\nkpt_shape: [2, 3]\nflip_idx: [0, 1]\n");
        return yaml;
    }

    [Fact]
    public void A_pose_model_trains_on_pose_labels_with_the_data_kpt_shape_and_reports_pose_metrics()
    {
        var root = TestPaths.NewTempDir("pose-train");
        var args = ConfigRecords.Parse<TrainConfig>(new Dictionary<string, string>
        {
            ["task"] = "pose", ["data"] = TinyPoseDataset(root), ["model"] = "yolov8n-pose", ["imgsz"] = "64", ["batch"] = "4",
            ["epochs"] = "2", ["workers"] = "0", ["project"] = Path.Combine(root, "runs"), ["name"] = "train", ["plots"] = "false",
        });
        var log = new StringWriter();
        var result = YoloTraining.Run(args, log);
        output.WriteLine(log.ToString());
        Assert.Contains("Overriding the model's kpt_shape [17, 3] with the data's [2, 3]", log.ToString());
        Assert.Contains("Pose(P", log.ToString());
        var header = File.ReadAllLines(Path.Combine(result.RunDir, "results.csv"))[0].Split(',').Select(h => h.Trim());
        Assert.Equal(new[] { "epoch" }.Concat(PoseModule.Columns), header);
        Assert.True(result.FinalMetrics.ContainsKey("metrics/mAP50-95(P)"));
        using (var best = ModelLoader.Load(result.BestPath!, null, _ => { }))
        {
            Assert.Equal("pose", best.Model.Task);
            Assert.Equal(new[] { 2, 3 }, best.Model.KptShape); // the weights rebuild with the data's keypoint shape
        }
        // strix val on the saved weights gives the final evaluation's numbers (same validator, same loader).
        var val = new Strix.Cli.Commands.ValCommand();
        Assert.Equal(0, val.Run(new[] { $"model={result.BestPath}", $"data={args.Data}", "imgsz=64", "batch=8", "workers=0", "plots=false", $"project={root}" }));
        Assert.Equal(result.FinalMetrics["metrics/mAP50-95(P)"], val.LastResult!.Masks!.Map, 6);
        Assert.Equal(result.FinalMetrics["metrics/mAP50-95(B)"], val.LastResult.Metrics.Map, 6);
    }
}
